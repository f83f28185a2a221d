"""``flip-models migrate`` and ``flip-models seed-demo`` (twice) on the test database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_local.cli import main
from flip_local.demo import DEMO_TRUSTS
from flip_models.core.metrics import get_metrics
from flip_models.core.trusts import resolve_trust_from_fl_client_name
from flip_models.enums import ModelStatus
from flip_models.store.tables import Base, FLLogs, Model, ModelsAudit, ProjectTrustIntersect


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
    assert (
        session.scalar(
            select(func.count())
            .select_from(ProjectTrustIntersect)
            .where(ProjectTrustIntersect.approved.is_(True))
        )
        == 3
    )
    assert session.scalar(select(func.count()).select_from(ModelsAudit)) >= 3
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
