"""Each SQS function with its sample event from events/, on the demo data: good applied, bad dead-lettered;
and the scheduled function with its EventBridge sample."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_local.demo import demo_id, seed_demo
from flip_models.enums import JobStatus, ModelStatus, NetStatus
from flip_models.store.tables import FLJob, FLLogs, FLMetrics, FLScheduler, Model
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.lambda_support import ROOT
from tests.sqs_events import failed_ids

RUNNING = demo_id("model:running")


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text())
    return event


def seeded(session: Session) -> None:
    seed_demo(session)
    session.commit()


def count(session: Session, column: Any) -> int:
    return session.scalar(select(func.count()).select_from(column.table).where(column == RUNNING)) or 0


def kinds(letters: list[dict[str, Any]]) -> list[str]:
    return sorted(letter["rejection_kind"] for letter in letters)


def test_fl_logs_sample(session: Session, logs_dlq: DeadLetterQueue) -> None:
    seeded(session)
    before = count(session, FLLogs.model_id)

    response = invoke("fl_logs", sample("fl_logs"))

    assert failed_ids(response) == []
    session.expire_all()
    assert count(session, FLLogs.model_id) == before + 4
    unattributed = session.scalar(select(FLLogs).where(FLLogs.fl_client_name == "Trust_9"))
    assert unattributed is not None
    assert unattributed.log is not None
    assert unattributed.log.startswith("[unattributed client 'Trust_9'] Traceback")
    assert kinds(logs_dlq.letters()) == [
        "invalid_message",
        "invalid_message",
        "unknown_fl_client",
        "unknown_model",
    ]


def test_fl_metrics_sample(session: Session, metrics_dlq: DeadLetterQueue) -> None:
    seeded(session)
    before = count(session, FLMetrics.model_id)

    response = invoke("fl_metrics", sample("fl_metrics"))

    assert failed_ids(response) == []
    session.expire_all()
    assert count(session, FLMetrics.model_id) == before + 3
    assert kinds(metrics_dlq.letters()) == ["invalid_message", "invalid_message", "unknown_fl_client"]


def test_fl_status_sample(session: Session, status_dlq: DeadLetterQueue) -> None:
    seeded(session)

    response = invoke("fl_status", sample("fl_status"))

    assert failed_ids(response) == []
    session.expire_all()
    statuses = {row.id: row.status for row in session.execute(select(Model.id, Model.status))}
    # The legacy TRAINING_STARTED (RUNNING) of a model whose job was never handed out: a late message
    # of an earlier run, ignored (SPEC §3 rule 2).
    assert statuses[demo_id("model:pending")] == ModelStatus.PENDING
    assert statuses[RUNNING] == ModelStatus.RESULTS_UPLOADED  # ERROR, then results (Flower)
    assert statuses[demo_id("model:finished")] == ModelStatus.RESULTS_UPLOADED
    assert kinds(status_dlq.letters()) == ["invalid_message", "invalid_message", "unknown_model"]


def test_fail_stale_runs_sample(session: Session) -> None:
    """The EventBridge sample on the demo data: the demo's silent run is failed, its scheduler freed."""
    seeded(session)
    silent = demo_id("model:silent")

    response = invoke("fail_stale_runs", sample("fail_stale_runs"))

    assert str(silent) in response["failed"]
    assert response["errors"] == []
    session.expire_all()
    assert session.get(Model, silent).status == ModelStatus.ERROR  # type: ignore[union-attr]
    scheduler = session.get(FLScheduler, demo_id("scheduler:2"))
    assert scheduler is not None
    assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
    assert session.get(FLJob, demo_id("job:silent")).status == JobStatus.COMPLETED  # type: ignore[union-attr]
    assert session.get(Model, demo_id("model:pending")).status == ModelStatus.PENDING  # type: ignore[union-attr]
