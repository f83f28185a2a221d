"""The scheduled fail_stale_runs function (SPEC §8) on real PostgreSQL: a stale run and a fresh one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.enums import JobStatus, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import DatabaseUnavailableError
from flip_models.store.settings import get_settings
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model, ModelStatusAudit
from tests.builders import Given
from tests.handlers.conftest import invoke
from tests.lambda_support import ROOT


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def scheduled_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "fail_stale_runs.json").read_text())
    return event


def run_silent_for(given: Given, minutes: float) -> tuple[Model, FLJob, FLScheduler]:
    """A RUNNING model whose job holds a busy scheduler; its last log line ``minutes`` ago."""
    model = given.model(status=ModelStatus.RUNNING, created=ago(minutes + 60))
    job = given.job(model, created=ago(minutes + 30), started=ago(minutes + 29))
    scheduler = given.busy_scheduler(job)
    given.log(model, "Round 3 started", at=ago(minutes))
    return model, job, scheduler


def emitted(output: str, name: str) -> list[float]:
    """The values of metric ``name`` in the EMF lines the handler printed."""
    values: list[float] = []
    for line in output.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if "_aws" in record and name in record:
            value = record[name]
            values.extend(float(v) for v in (value if isinstance(value, list) else [value]))
    return values


def test_the_stale_run_is_failed_and_the_fresh_one_left_running(
    given: Given, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    stale, stale_job, stale_scheduler = run_silent_for(given, 180)
    fresh, fresh_job, fresh_scheduler = run_silent_for(given, 20)
    capsys.readouterr()

    response = invoke("fail_stale_runs", scheduled_event())

    assert response == {"staleRunMinutes": 120, "candidates": 1, "failed": [str(stale.id)], "errors": []}
    assert emitted(capsys.readouterr().out, "StaleRunsFailed") == [1.0]
    session.expire_all()
    for row in (stale, stale_job, stale_scheduler, fresh, fresh_job, fresh_scheduler):
        session.refresh(row)
    assert stale.status == ModelStatus.ERROR
    assert (stale_job.status, stale_job.completed is not None) == (JobStatus.COMPLETED, True)
    assert (stale_scheduler.status, stale_scheduler.job_id) == (NetStatus.AVAILABLE, None)
    assert fresh.status == ModelStatus.RUNNING
    assert (fresh_job.status, fresh_job.completed) == (JobStatus.IN_PROGRESS, None)
    assert (fresh_scheduler.status, fresh_scheduler.job_id) == (NetStatus.BUSY, fresh_job.id)
    assert session.scalars(
        select(ModelStatusAudit.model_id).where(ModelStatusAudit.action == StatusAuditAction.ERROR)
    ).all() == [stale.id]
    lines = session.scalars(
        select(FLLogs.log).where(FLLogs.model_id == stale.id).order_by(FLLogs.log_date, FLLogs.id)
    ).all()
    assert lines[-2:] == [
        "There has been an error whilst running the job for this model.",
        "No message from the FL server for 180 minutes: the run was marked as failed.",
    ]


def test_stale_run_minutes_comes_from_the_environment(
    given: Given, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _, _ = run_silent_for(given, 180)
    monkeypatch.setenv("STALE_RUN_MINUTES", "240")
    get_settings.cache_clear()
    try:
        assert invoke("fail_stale_runs", scheduled_event())["failed"] == []
        monkeypatch.setenv("STALE_RUN_MINUTES", "150")
        get_settings.cache_clear()
        assert invoke("fail_stale_runs", scheduled_event())["failed"] == [str(model.id)]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_nothing_to_do_is_counted_as_zero(given: Given, capsys: pytest.CaptureFixture[str]) -> None:
    run_silent_for(given, 5)
    capsys.readouterr()

    response = invoke("fail_stale_runs", scheduled_event())

    assert response == {"staleRunMinutes": 120, "candidates": 0, "failed": [], "errors": []}
    assert emitted(capsys.readouterr().out, "StaleRunsFailed") == [0.0]


@pytest.mark.usefixtures("database_down")
def test_a_database_that_is_down_fails_the_invocation_and_counts_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(DatabaseUnavailableError):
        invoke("fail_stale_runs", scheduled_event())

    assert emitted(capsys.readouterr().out, "StaleRunsFailed") == [0.0]  # EventBridge retries it
