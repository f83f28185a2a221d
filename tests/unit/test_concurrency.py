"""Concurrent status updates on one model serialise on the row lock (SPEC §3)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from flip_models.core.transitions import update_model_status, update_model_status_by_user
from flip_models.enums import JobStatus, ModelStatus, NetStatus
from flip_models.errors import ConflictError
from flip_models.fl import outcomes as fl_outcomes
from flip_models.fl import statuses as fl_statuses
from flip_models.fl.messages import FLStatusMessage
from flip_models.store import db
from flip_models.store.db import session_scope
from flip_models.store.tables import FLLogs, Model, ModelsAudit, ModelStatusAudit
from tests.builders import Given

S = ModelStatus
THREADS = 20


def run_together(
    session_factory: sessionmaker[Session], model_id: object, statuses: list[ModelStatus]
) -> list[object]:
    barrier = threading.Barrier(len(statuses))
    results: list[object] = [None] * len(statuses)

    def worker(index: int, status: ModelStatus) -> None:
        barrier.wait()
        try:
            with session_scope(session_factory) as session:
                results[index] = update_model_status(model_id, status, session)  # type: ignore[arg-type]
        except Exception as error:  # surfaced by the assertion below
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(statuses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_simultaneous_stops_make_one_transition(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    model = given.model(status=S.RUNNING)
    job = given.job(model, status=JobStatus.IN_PROGRESS)
    scheduler = given.busy_scheduler(job)

    results = run_together(session_factory, model.id, [S.STOPPED] * THREADS)

    assert results == [S.STOPPED] * THREADS
    assert session.scalars(select(ModelStatusAudit.action)).all() == ["STOPPED"]
    assert session.scalars(select(FLLogs.log)).all() == ["The job for this model has been stopped."]
    session.refresh(scheduler)
    assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)


def test_twenty_racing_fl_callbacks_give_one_audit_row_per_real_change(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    model = given.model(status=S.INITIATED)
    job = given.job(model, status=JobStatus.IN_PROGRESS)
    given.busy_scheduler(job)
    statuses = [S.PREPARED, S.RUNNING, S.ERROR, S.RESULTS_UPLOADED] * (THREADS // 4)
    random.Random(7).shuffle(statuses)

    results = run_together(session_factory, model.id, statuses)

    assert all(isinstance(result, ModelStatus) for result in results), results
    session.refresh(model)
    # RESULTS_UPLOADED is the last status of a run: whatever the order, the model ends there.
    assert model.status == S.RESULTS_UPLOADED
    audit_actions = Counter(
        [
            *session.scalars(select(ModelsAudit.action)).all(),
            *session.scalars(select(ModelStatusAudit.action)).all(),
        ]
    )
    hub_lines = session.scalars(select(FLLogs.log)).all()
    assert audit_actions["RESULTS_UPLOADED"] == 1
    assert all(count == 1 for count in audit_actions.values()), audit_actions
    assert len(hub_lines) == sum(audit_actions.values()) == len(set(hub_lines))
    session.refresh(job)
    assert job.status == JobStatus.COMPLETED


def test_twenty_simultaneous_stops_by_people_report_one_change(
    session: Session, given: Given, session_factory: sessionmaker[Session]
) -> None:
    """Found by the concurrency suite: the status was read before the row lock, so every racing
    request saw RUNNING and answered ``changed: true`` although only one made the transition."""
    model = given.model(status=S.RUNNING)
    user = uuid.uuid4()
    results: list[object] = [None] * THREADS
    session.execute(select(Model).where(Model.id == model.id).with_for_update())  # all of them queue

    def worker(index: int) -> None:
        try:
            with session_scope(session_factory) as worker_session:
                results[index] = update_model_status_by_user(model.id, S.STOPPED, user, worker_session)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    session.rollback()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results, key=str) == [(S.STOPPED, False)] * (THREADS - 1) + [(S.STOPPED, True)]


def test_fl_statuses_racing_stops_never_deadlock(
    session: Session, given: Given, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the concurrency suite: a status message's insert took a share lock on the model row
    (its foreign key) before the update lock, so it deadlocked with a concurrent stop or status and
    was retried (40P01). Locking the model first, as every status change does, removes the cycle."""
    monkeypatch.setattr(db, "_get_sessionmaker", lambda: session_factory)
    model = given.model(status=S.RUNNING)
    user = uuid.uuid4()
    statuses = [S.PREPARED, S.RUNNING, S.ERROR, S.RESULTS_UPLOADED, S.STOPPED] * 2
    items = [
        fl_outcomes.Item(f"m-{index}", FLStatusMessage(model_id=model.id, status=status), datetime.now(UTC))
        for index, status in enumerate(statuses)
    ]
    barrier = threading.Barrier(len(items) * 2)
    outcomes: list[object] = []

    def report(item: fl_outcomes.Item[FLStatusMessage]) -> None:
        barrier.wait()
        outcomes.extend(fl_statuses.apply_statuses([item]).values())

    stops: list[str] = []

    def stop() -> None:
        barrier.wait()
        try:
            with session_scope(session_factory) as worker_session:
                update_model_status_by_user(model.id, S.STOPPED, user, worker_session)
        except ConflictError:  # the run had ended first (an FL ERROR or RESULTS_UPLOADED won): a 409
            stops.append("refused")
        else:
            stops.append("answered")

    threads = [threading.Thread(target=report, args=(item,)) for item in items]
    threads += [threading.Thread(target=stop) for _ in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [fl_outcomes.Applied()] * len(items)
    assert len(stops) == len(items)  # every stop answered or refused as a person sees it; none failed
