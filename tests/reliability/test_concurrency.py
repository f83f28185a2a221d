"""Concurrency (SPEC §3–§5): people stopping a running model while its FL server reports statuses.

50 actors start together on one RUNNING model holding a busy scheduler: 35 ``PATCH …/status/STOPPED``
requests (admin, project owner, model owner) and 15 FL status messages (``PREPARED``, ``RUNNING``,
``TRAINING_STARTED``, ``ERROR``, ``RESULTS_UPLOADED``, ``RESULTS_UPLOAD_FAILED``, ``STOPPED``). The run
ends once, whoever ends it; a person's stop after its end is a 409 (SPEC §3, people's changes). What
runs concurrently, honestly: each actor is its own "container", i.e. its own copy of the function
module (its own resolver) and its own engine with one connection, in its own thread; the actors
call the route through the resolver (``app.resolve``) and the batch through ``fl.batch.handle_batch``,
the real code under the handlers' observability decorators, which are left out because Powertools'
Metrics is a per-process singleton that a Lambda container never shares between invocations.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from flip_models.core.audit import model_audit_trail
from flip_models.enums import JobStatus, ModelStatus, NetStatus
from flip_models.fl import batch as fl_batch
from flip_models.observability import metrics
from flip_models.store import db
from flip_models.store.settings import Settings
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model
from tests.api_events import Person, api_event
from tests.builders import Given
from tests.lambda_support import ROOT, lambda_context
from tests.reliability.conftest import record
from tests.sqs_events import sqs_event, sqs_record

PEOPLE = 35
FL_MESSAGES = 15
#: Containers serving them (each holds one database connection of the shared test server).
CONTAINERS = 25
FL_STATUSES = ["PREPARED", "RUNNING", "TRAINING_STARTED", "ERROR", "RESULTS_UPLOADED",
               "RESULTS_UPLOAD_FAILED", "STOPPED"]  # fmt: skip
RESULTS = (ModelStatus.RESULTS_UPLOADED, ModelStatus.RESULTS_UPLOAD_FAILED)
#: Attempts of a request answered 503, or of a message reported for retry.
RETRIES = 5


def container_module(function: str, index: int) -> ModuleType:
    """A fresh copy of ``functions/<function>/app.py`` (one warm Lambda container's module)."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"reliability_{function}_{index}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Container:
    """One warm Lambda container: its own copy of the function module and its own engine."""

    module: ModuleType
    sessions: sessionmaker[Session]


class Containers:
    """A fixed set of containers; each invocation takes an idle one for its duration."""

    def __init__(self, database_url: str, count: int) -> None:
        self.idle: queue.Queue[Container] = queue.Queue()
        self.engines = [
            db.build_engine(Settings(database_url=database_url), pool_size=1) for _ in range(count)
        ]
        for index, engine in enumerate(self.engines):
            module = container_module("update_model_status", index)
            self.idle.put(Container(module, sessionmaker(bind=engine, expire_on_commit=False)))
        self.current = threading.local()

    def sessionmaker(self) -> sessionmaker[Session]:
        """What ``db.session_scope()`` uses: the engine of the container running this invocation."""
        running: Container = self.current.container
        return running.sessions

    def invoke(self, work: Callable[[Container], Any]) -> Any:
        running = self.idle.get(timeout=60)
        self.current.container = running
        try:
            return work(running)
        finally:
            self.current.container = None
            self.idle.put(running)

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def containers(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Containers]:
    pool = Containers(database_url, CONTAINERS)
    monkeypatch.setattr(db, "_get_sessionmaker", pool.sessionmaker)
    yield pool
    pool.dispose()


@pytest.fixture(autouse=True)
def _no_metrics_left_behind() -> Iterator[None]:
    """``handle_batch`` runs here without ``log_metrics``, which in Lambda flushes (and empties) the
    metric set after every invocation: empty it after the test, so no later test's handler starts
    with this one's dimensions and counts."""
    yield
    metrics.clear_metrics()


@pytest.fixture
def scheduler_releases() -> Iterator[Counter[str]]:
    """Counts UPDATEs of ``fl_scheduler`` that changed a row (a scheduler released), from any thread."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def after(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE FL_SCHEDULER") and cursor.rowcount > 0:
            with lock:
                counts["released"] += cursor.rowcount

    event.listen(Engine, "after_cursor_execute", after)
    yield counts
    event.remove(Engine, "after_cursor_execute", after)


def run_together(actions: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as error:  # reported by the caller's assertions
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("round_", range(3))
def test_fifty_racing_stops_and_fl_statuses_make_one_stop_one_audit_row_one_release(
    round_: int,
    given: Given,
    session: Session,
    containers: Containers,
    scheduler_releases: Counter[str],
) -> None:
    owner, researcher, admin = Person.new("researcher"), Person.new("researcher"), Person.new("admin")
    project = given.project(owner.user_id, access=[researcher.user_id])
    model = given.model(project, status=ModelStatus.RUNNING, owner_id=researcher.user_id)
    job = given.job(model, status=JobStatus.IN_PROGRESS)
    scheduler = given.busy_scheduler(job)
    people = [(admin, owner, researcher)[index % 3] for index in range(PEOPLE)]
    statuses = [FL_STATUSES[(index + round_) % len(FL_STATUSES)] for index in range(FL_MESSAGES)]
    context = lambda_context()
    unavailable: Counter[str] = Counter()

    def stop(person: Person) -> Callable[[], Any]:
        path = {"modelId": str(model.id), "status": "STOPPED"}
        request = api_event(
            "PATCH",
            "/model/{modelId}/status/{status}",
            path,
            user_id=person.user_id,
            groups=list(person.groups),
        )

        def call() -> Any:
            for _ in range(RETRIES):  # a 503 is retried, as the web app does
                response = containers.invoke(lambda running: running.module.app.resolve(request, context))
                if response["statusCode"] != 503:
                    break
                unavailable["api"] += 1
            return response

        return call

    def report(status: str) -> Callable[[], Any]:
        batch = sqs_event(
            sqs_record(
                {"model_id": str(model.id), "status": status, "event_id": f"race-{uuid.uuid4()}"},
                queue="fl-status-race.fifo",
                group_id=str(model.id),
            )
        )

        def deliver() -> Any:
            for _ in range(RETRIES):  # a reported failure is delivered again, as SQS does
                response = containers.invoke(
                    lambda _: fl_batch.handle_batch(fl_batch.FL_STATUS, batch, context)
                )
                if not response["batchItemFailures"]:
                    break
                unavailable["sqs"] += 1
            return response

        return deliver

    actions = [stop(person) for person in people]
    actions += [report(status) for status in statuses]

    results = run_together(actions)

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    responses, batches = results[:PEOPLE], results[PEOPLE:]
    assert all(batch == {"batchItemFailures": []} for batch in batches), batches
    session.expire_all()
    final = session.scalar(select(Model.status).where(Model.id == model.id))
    # The run ends once: stopped by a person or the FL server, or ended by the FL server's last
    # status; a person's stop that comes after the end is refused (409: no run to stop).
    assert final in (ModelStatus.STOPPED, ModelStatus.ERROR, *RESULTS)
    codes = Counter(response["statusCode"] for response in responses)
    assert set(codes) <= {200, 409}, responses[:3]
    bodies = [json.loads(response["body"]) for response in responses if response["statusCode"] == 200]
    assert {body["status"] for body in bodies} <= {"STOPPED"}
    if final != ModelStatus.STOPPED:
        assert bodies == []
    audit = [(entry.action, entry.user_id) for entry in model_audit_trail(model.id, session)]
    written = Counter(action for action, _ in audit)
    assert written["STOPPED"] == (1 if final == ModelStatus.STOPPED else 0)
    assert all(count == 1 for count in written.values()), written
    stopped_by = [user_id for action, user_id in audit if action == "STOPPED"]
    changed = [body["changed"] for body in bodies].count(True)
    # The one stop is reported by the one request that made it, or by none if the FL server's won.
    assert changed == (1 if stopped_by and stopped_by[0] is not None else 0)
    stopped_lines = session.scalars(
        select(FLLogs.log).where(
            FLLogs.model_id == model.id, FLLogs.log == "The job for this model has been stopped."
        )
    ).all()
    assert len(stopped_lines) == written["STOPPED"]
    assert session.scalar(select(FLJob.status).where(FLJob.id == job.id)) == JobStatus.COMPLETED
    released = session.execute(
        select(FLScheduler.status, FLScheduler.job_id).where(FLScheduler.id == scheduler.id)
    ).one()
    assert tuple(released) == (NetStatus.AVAILABLE, None)
    assert scheduler_releases["released"] == 1
    # Every status change locks the model row first: no deadlock, no wait past the timeout.
    assert unavailable == Counter()
    record(
        "concurrency",
        rounds=1,
        actors=len(actions),
        stop_requests=PEOPLE,
        fl_messages=FL_MESSAGES,
        stop_transitions=written["STOPPED"],
        stops_refused_409=codes[409],
        stops_reported_changed=changed,
        scheduler_releases=scheduler_releases["released"],
        audit_rows=sum(written.values()),
        retried_503=unavailable["api"],
        redelivered=unavailable["sqs"],
    )
