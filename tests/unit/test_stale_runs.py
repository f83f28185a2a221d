"""Runs whose FL server went silent (SPEC §8): the staleness rule, the failure, races and repeats."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from flip_models.core.status import HUB_LOG_LINES
from flip_models.core.transitions import update_model_status_by_user
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import ConfigurationError
from flip_models.fl import outcomes as fl_outcomes
from flip_models.fl import stale_runs
from flip_models.fl import statuses as fl_statuses
from flip_models.fl.messages import FLStatusMessage
from flip_models.fl.stale_runs import explanation, fail_stale_run, fail_stale_runs, find_stale_runs
from flip_models.store import db
from flip_models.store.db import session_scope
from flip_models.store.settings import Settings
from flip_models.store.tables import (
    Base,
    FLJob,
    FLLogs,
    FLScheduler,
    Model,
    ModelStatusAudit,
    Trust,
)
from tests.builders import Given

S = ModelStatus
MINUTES = 120
ERROR_LINE = HUB_LOG_LINES[S.ERROR][0]


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def silent_run_parts(
    given: Given, trust: Trust, *, status: ModelStatus = S.RUNNING, silent: float = 240
) -> tuple[Model, FLJob, FLScheduler]:
    """A run whose every sign of life is ``silent`` minutes old: its creation, its job (created and
    started), a log line, a metric and an audit row; its job holds a busy scheduler."""
    model = given.model(status=status, trusts=[trust], created=ago(silent + 60))
    job = given.job(model, created=ago(silent + 5), started=ago(silent + 4))
    scheduler = given.busy_scheduler(job)
    given.log(model, "Round 1 started", at=ago(silent))
    given.metric(model, trust, label="LOSS_FUNCTION", x_value=0, result=0.9, at=ago(silent))
    given.audit(model, ModelAuditAction.RUNNING, at=ago(silent))
    return model, job, scheduler


def silent_run(given: Given, trust: Trust, *, status: ModelStatus = S.RUNNING, silent: float = 240) -> Model:
    return silent_run_parts(given, trust, status=status, silent=silent)[0]


def stale_ids(session: Session, minutes: int = MINUTES) -> list[uuid.UUID]:
    return [run.model_id for run in find_stale_runs(minutes, session)]


def row_counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def hub_lines(session: Session, model_id: uuid.UUID) -> list[tuple[str | None, bool]]:
    """The model's hub lines written after its seeded ones, in feed order (log_date, id)."""
    rows = session.execute(
        select(FLLogs.log, FLLogs.success)
        .where(FLLogs.model_id == model_id, FLLogs.log != "Round 1 started")
        .order_by(FLLogs.log_date, FLLogs.id)
    )
    return [(row.log, row.success) for row in rows]


# --- the rule -------------------------------------------------------------------------------------


def test_a_run_silent_for_longer_than_the_threshold_is_found_with_its_silence(
    session: Session, given: Given
) -> None:
    trust = given.trust()
    model = silent_run(given, trust, silent=240)

    [run] = find_stale_runs(MINUTES, session)

    assert run.model_id == model.id
    assert run.silent_minutes in (239, 240)  # whole minutes, by the database's clock
    assert stale_ids(session, minutes=300) == []  # a longer threshold: not stale yet


FRESH_SIGNS: dict[str, Callable[[Given, Model, Trust], object]] = {
    "a log line": lambda given, model, trust: given.log(model, "still here", at=ago(30)),
    "a metric": lambda given, model, trust: given.metric(
        model, trust, label="LOSS_FUNCTION", x_value=1, result=0.5, at=ago(30)
    ),
    "an audit row": lambda given, model, trust: given.audit(model, ModelAuditAction.RUNNING, at=ago(30)),
    "its newest job's start": lambda given, model, trust: given.job(model, created=ago(200), started=ago(30)),
    "its newest job's creation, not started": lambda given, model, trust: given.job(model, created=ago(30)),
}


@pytest.mark.parametrize("sign", sorted(FRESH_SIGNS))
def test_each_sign_of_life_keeps_a_run_alive(session: Session, given: Given, sign: str) -> None:
    trust = given.trust()
    model = silent_run(given, trust)
    assert stale_ids(session) == [model.id]

    FRESH_SIGNS[sign](given, model, trust)

    assert stale_ids(session) == []


def test_only_the_newest_job_counts_its_start_else_its_creation(session: Session, given: Given) -> None:
    model = given.model(status=S.RUNNING, created=ago(600))
    given.job(model, created=ago(500), started=ago(30))  # an older job that started late
    given.job(model, created=ago(400))  # the newest job: never started, created long ago

    assert stale_ids(session) == [model.id]


def test_a_model_without_any_sign_of_life_counts_from_its_creation(session: Session, given: Given) -> None:
    old = given.model(status=S.INITIATED, created=ago(MINUTES + 5))
    given.model(status=S.INITIATED, created=ago(MINUTES - 5))

    assert stale_ids(session) == [old.id]


def test_the_threshold_is_a_strict_boundary_in_minutes(session: Session, given: Given) -> None:
    trust = given.trust()
    over = silent_run(given, trust, silent=MINUTES + 1)
    silent_run(given, trust, silent=MINUTES - 1)

    assert stale_ids(session) == [over.id]


@pytest.mark.parametrize("status", list(ModelStatus))
def test_only_runs_in_flight_are_candidates(session: Session, given: Given, status: ModelStatus) -> None:
    trust = given.trust()
    model = silent_run(given, trust, status=status)

    expected = [model.id] if status in (S.INITIATED, S.PREPARED, S.RUNNING) else []
    assert stale_ids(session) == expected


def test_a_deleted_model_is_never_a_candidate(session: Session, given: Given) -> None:
    model = silent_run(given, given.trust())
    model.deleted = True
    session.commit()

    assert stale_ids(session) == []


def test_candidates_come_oldest_silence_first(session: Session, given: Given) -> None:
    trust = given.trust()
    newer = silent_run(given, trust, silent=300)
    older = silent_run(given, trust, silent=900)

    assert stale_ids(session) == [older.id, newer.id]


# --- failing a run --------------------------------------------------------------------------------


def test_the_sweep_fails_a_silent_run_and_frees_its_scheduler(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    trust = given.trust()
    model, job, scheduler = silent_run_parts(given, trust, silent=240)
    fresh, fresh_job, fresh_scheduler = silent_run_parts(given, trust, silent=30)

    sweep = fail_stale_runs(MINUTES, session_factory)

    assert sweep.candidates == 1
    assert [run.model_id for run in sweep.failed] == [model.id]
    assert sweep.summary() == {
        "staleRunMinutes": MINUTES,
        "candidates": 1,
        "failed": [str(model.id)],
        "errors": [],
    }
    session.expire_all()
    assert session.get(Model, model.id).status == S.ERROR  # type: ignore[union-attr]
    audit = session.execute(
        select(ModelStatusAudit.user_id).where(
            ModelStatusAudit.model_id == model.id, ModelStatusAudit.action == StatusAuditAction.ERROR
        )
    ).all()
    assert [row.user_id for row in audit] == [None]  # a background transition
    minutes = sweep.failed[0].silent_minutes
    assert minutes in (239, 240)
    assert hub_lines(session, model.id) == [(ERROR_LINE, False), (explanation(minutes), False)]
    assert explanation(minutes) == (
        f"No message from the FL server for {minutes} minutes: the run was marked as failed."
    )
    session.refresh(job)
    assert (job.status, job.completed is not None) == (JobStatus.COMPLETED, True)
    session.refresh(scheduler)
    assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
    # The fresh run is untouched.
    assert session.get(Model, fresh.id).status == S.RUNNING  # type: ignore[union-attr]
    session.refresh(fresh_job)
    session.refresh(fresh_scheduler)
    assert fresh_job.status == JobStatus.IN_PROGRESS
    assert (fresh_scheduler.status, fresh_scheduler.job_id) == (NetStatus.BUSY, fresh_job.id)


def test_a_second_sweep_changes_nothing(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    trust = given.trust()
    for silent in (200, 400, 800):
        silent_run(given, trust, silent=silent)
    assert len(fail_stale_runs(MINUTES, session_factory).failed) == 3
    counts = row_counts(session)

    again = fail_stale_runs(MINUTES, session_factory)

    assert (again.candidates, again.failed) == (0, [])
    assert row_counts(session) == counts


def test_a_model_the_database_refuses_is_skipped_reported_and_retried_next_time(
    session: Session, given: Given, session_factory: sessionmaker[Session], engine: Engine
) -> None:
    trust = given.trust()
    refused = silent_run(given, trust, silent=500)
    other = silent_run(given, trust, silent=300)
    with engine.begin() as connection:  # a database rule this model's hub lines break (SQLSTATE P0001)
        connection.execute(
            text(
                "CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.model_id = '{refused.id}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER refuse_log BEFORE INSERT ON fl_logs"
                " FOR EACH ROW EXECUTE FUNCTION refuse_log()"
            )
        )
    try:
        with pytest.raises(stale_runs.SweepError, match=str(refused.id)):
            fail_stale_runs(MINUTES, session_factory)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_log ON fl_logs"))
            connection.execute(text("DROP FUNCTION refuse_log()"))

    session.expire_all()
    assert session.get(Model, refused.id).status == S.RUNNING  # type: ignore[union-attr]  # rolled back
    assert session.get(Model, other.id).status == S.ERROR  # type: ignore[union-attr]
    assert [run.model_id for run in fail_stale_runs(MINUTES, session_factory).failed] == [refused.id]


# --- races ----------------------------------------------------------------------------------------


def _status_message(session_factory: sessionmaker[Session], model: Model, status: ModelStatus) -> None:
    item = fl_outcomes.Item("m-1", FLStatusMessage(model_id=model.id, status=status), datetime.now(UTC))
    assert fl_statuses.apply_statuses([item]) == {"m-1": fl_outcomes.Applied()}


@pytest.mark.parametrize(
    ("arrival", "status_after"),
    [
        ("a status message", S.RESULTS_UPLOADED),
        ("a log line", S.RUNNING),
        ("a person's stop", S.STOPPED),
    ],
)
def test_what_arrives_between_the_query_and_the_lock_wins(
    session: Session,
    given: Given,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    arrival: str,
    status_after: ModelStatus,
) -> None:
    monkeypatch.setattr(db, "_get_sessionmaker", lambda: session_factory)
    model = silent_run(given, given.trust())
    with session_scope(session_factory) as first:
        [candidate] = find_stale_runs(MINUTES, first)
    assert candidate.model_id == model.id

    if arrival == "a status message":
        _status_message(session_factory, model, S.RESULTS_UPLOADED)
    elif arrival == "a log line":
        given.log(model, "Round 2 started")
    else:
        with session_scope(session_factory) as person:
            update_model_status_by_user(model.id, S.STOPPED, uuid.uuid4(), person)
    counts = row_counts(session)

    with session_scope(session_factory) as second:
        assert fail_stale_run(model.id, MINUTES, second) is None

    assert row_counts(session) == counts
    assert session.get(Model, model.id).status == status_after  # type: ignore[union-attr]


def test_a_message_in_flight_holds_the_sweep_until_it_commits_and_then_wins(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    """A log batch (or status message) whose transaction is open when the sweep locks the model: the
    sweep waits for it (its foreign key check holds a share lock on the model row) and then sees it."""
    model = silent_run(given, given.trust())
    result: list[object] = []
    with session_factory() as message:
        message.add(FLLogs(model_id=model.id, log="Round 2 started"))
        message.flush()  # inserted, not committed: the row lock of the foreign key is held

        def sweep() -> None:
            with session_scope(session_factory) as sweeping:
                result.append(fail_stale_run(model.id, MINUTES, sweeping))

        thread = threading.Thread(target=sweep)
        thread.start()
        _wait_for_a_lock_wait(session)
        assert result == []  # still waiting for the row lock
        message.commit()
    thread.join(timeout=30)

    assert result == [None]
    session.expire_all()
    assert session.get(Model, model.id).status == S.RUNNING  # type: ignore[union-attr]


def _wait_for_a_lock_wait(session: Session, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        session.rollback()
        if waiting:
            return
        time.sleep(0.05)
    pytest.fail("the sweep never waited for the row lock")


def test_two_sweeps_at_once_fail_each_run_once(
    session: Session, given: Given, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """EventBridge may deliver a schedule twice: both sweeps find the same candidates (a barrier holds
    each between its query and its locks), and each run is still failed once."""
    trust = given.trust()
    models = [silent_run(given, trust, silent=200 + 10 * index) for index in range(10)]
    barrier = threading.Barrier(2)
    find = stale_runs.find_stale_runs

    def find_then_wait(minutes: int, found_in: Session) -> list[stale_runs.StaleRun]:
        found = find(minutes, found_in)
        barrier.wait(timeout=30)
        return found

    monkeypatch.setattr(stale_runs, "find_stale_runs", find_then_wait)
    sweeps: list[stale_runs.Sweep] = []

    def sweep() -> None:
        sweeps.append(fail_stale_runs(MINUTES, session_factory))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [s.candidates for s in sweeps] == [10, 10]
    failed = Counter(run.model_id for s in sweeps for run in s.failed)
    assert failed == Counter({model.id: 1 for model in models})
    session.expire_all()
    audits = Counter(
        session.scalars(
            select(ModelStatusAudit.model_id).where(ModelStatusAudit.action == StatusAuditAction.ERROR)
        )
    )
    assert audits == failed
    for model in models:
        [(error_line, _), (why, _)] = hub_lines(session, model.id)
        assert error_line == ERROR_LINE
        assert why is not None
        assert why.startswith("No message from the FL server for ")
        assert session.get(Model, model.id).status == S.ERROR  # type: ignore[union-attr]


def test_the_model_row_is_locked_once_per_failure(
    session: Session, given: Given, session_factory: sessionmaker[Session], engine: Engine
) -> None:
    """One row lock per transition: the sweep locks the row and hands it to the core's transition
    (``update_model_status`` would lock it a second time)."""
    model = silent_run(given, given.trust())
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(session_factory) as sweeping:
            assert fail_stale_run(model.id, MINUTES, sweeping) is not None
    finally:
        event.remove(engine, "before_cursor_execute", record)

    model_locks = [s for s in statements if s.endswith("FOR UPDATE") and "FROM model " in s]
    assert len(model_locks) == 1, statements


def test_stale_run_minutes_defaults_to_120_and_must_be_positive() -> None:
    assert Settings.from_env({"DATABASE_URL": "postgresql://x/y"}).stale_run_minutes == 120
    assert (
        Settings.from_env({"DATABASE_URL": "postgresql://x/y", "STALE_RUN_MINUTES": "45"}).stale_run_minutes
        == 45
    )
    for bad in ("0", "-5", "soon"):
        with pytest.raises(ConfigurationError, match="STALE_RUN_MINUTES"):
            Settings.from_env({"DATABASE_URL": "postgresql://x/y", "STALE_RUN_MINUTES": bad})
