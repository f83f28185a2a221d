"""``flip-models migrate`` and ``flip-models seed-demo`` (twice) on the test database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from flip_local.cli import main
from flip_local.demo import DEMO_TRUSTS, DEMO_USERS, demo_id, seed_demo
from flip_models.core.metrics import get_metrics
from flip_models.core.trusts import resolve_trust_from_fl_client_name
from flip_models.enums import (
    DecisionMaker,
    FileUploadStatus,
    ModelAuditAction,
    ModelStatus,
    TrustApprovalStatus,
)
from flip_models.store.tables import (
    Base,
    FLLogs,
    Model,
    ModelsAudit,
    ModelStatusAudit,
    ProjectTrustIntersect,
    Query,
    UploadedFile,
)


def row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_seed_demo_twice_is_idempotent_and_gives_the_promised_data(
    session: Session, engine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert "database at revision" in capsys.readouterr().out
    assert main(["seed-demo", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    counts = row_counts(session)

    assert main(["seed-demo", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    session.expire_all()

    assert row_counts(session) == counts
    assert second["rows_inserted"] == 0 < first["rows_inserted"]
    statuses = dict(session.execute(select(Model.id, Model.status)).all())
    assert {str(k): v for k, v in statuses.items()} == {
        first["pending_model_id"]: ModelStatus.PENDING,
        first["running_model_id"]: ModelStatus.RUNNING,
        first["finished_model_id"]: ModelStatus.RESULTS_UPLOADED,
        first["queued_model_id"]: ModelStatus.PENDING,
        first["silent_model_id"]: ModelStatus.RUNNING,
    }
    for code, _, slot in DEMO_TRUSTS:
        trust = resolve_trust_from_fl_client_name(slot, session)
        assert trust is not None
        assert trust.code == code
    trust_ids = {uuid.UUID(trust_id) for trust_id in first["trust_ids"].values()}
    decisions = session.execute(
        select(
            ProjectTrustIntersect.trust_id,
            ProjectTrustIntersect.status,
            ProjectTrustIntersect.decided_by,
            ProjectTrustIntersect.decided_as,
            ProjectTrustIntersect.decided_at,
        ).where(ProjectTrustIntersect.project_id == uuid.UUID(first["project_id"]))
    ).all()
    assert {row.trust_id for row in decisions} == trust_ids
    for row in decisions:
        assert (row.status, row.decided_by, row.decided_as) == (
            TrustApprovalStatus.APPROVED,
            DEMO_USERS["admin"][0],
            DecisionMaker.HUB,
        )
        assert row.decided_at is not None
    query = session.execute(select(Query.created_by, Query.queried_trust_ids)).one()
    assert query.created_by == DEMO_USERS["owner"][0]
    assert set(query.queried_trust_ids) == trust_ids
    audit = session.execute(select(ModelsAudit.model_id, ModelsAudit.action, ModelsAudit.user_id)).all()
    assert {(str(row.model_id), row.action) for row in audit} == {
        (first["running_model_id"], ModelAuditAction.PREPARED),
        (first["running_model_id"], ModelAuditAction.RUNNING),
        (first["finished_model_id"], ModelAuditAction.PREPARED),
        (first["finished_model_id"], ModelAuditAction.RUNNING),
        (first["finished_model_id"], ModelAuditAction.RESULTS_UPLOADED),
        (first["silent_model_id"], ModelAuditAction.PREPARED),
        (first["silent_model_id"], ModelAuditAction.RUNNING),
    }
    assert all(row.user_id is None for row in audit)  # background transitions
    assert session.scalar(select(func.count()).select_from(ModelStatusAudit)) == 0
    files = session.execute(select(UploadedFile.model_id, UploadedFile.status)).all()
    assert {str(row.model_id) for row in files} == {str(model_id) for model_id in statuses}
    assert {row.status for row in files} == {FileUploadStatus.COMPLETED}
    assert session.scalar(select(func.count()).select_from(FLLogs).where(FLLogs.event_type.is_not(None))) > 0
    charts = get_metrics(first["finished_model_id"], session)
    assert {chart.y_label for chart in charts} == {"LOSS_FUNCTION", "ACCURACY"}
    assert all(len(series.data) >= 3 for chart in charts for series in chart.metrics)


def test_cli_reports_configuration_errors_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flip_models.store import db

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    db.reset_engine()
    try:
        assert main(["migrate"]) == 2
    finally:
        monkeypatch.undo()
        db.reset_engine()
    assert "DATABASE_URL or DB_SECRET_ARN" in capsys.readouterr().err


def test_seed_demo_stores_its_times_as_utc_relative_to_now(session: Session, engine: object) -> None:
    """``now`` in any zone: FLIP's naive timestamp columns hold its UTC equivalent, and the running
    model's run started forty minutes before (its job five minutes earlier still)."""
    now = datetime(2026, 3, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=5)))
    summary = seed_demo(session, now=now)
    session.flush()

    started = session.execute(
        text("SELECT started FROM fl_job WHERE id = :id"), {"id": demo_id("job:running")}
    ).scalar_one()
    expected = datetime(2026, 3, 1, 9, 30, 15) - timedelta(minutes=45)
    assert (started if started.tzinfo is None else started.astimezone(UTC).replace(tzinfo=None)) == expected
    assert session.scalar(select(Model.creation_timestamp).where(Model.id == summary.running_model_id)) == (
        datetime(2026, 3, 1, 3, 30, 15, tzinfo=UTC) + timedelta(minutes=40)
    )
    # Seeding again later inserts nothing and keeps the first times.
    assert seed_demo(session, now=now + timedelta(days=2)).rows_inserted == 0
    session.rollback()
