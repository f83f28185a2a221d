"""The migration Lambda, invoked like Lambda would with its sample event."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from flip_models.store.migrate import current_revision
from tests.lambda_support import ROOT, lambda_context, load_function


def test_migrate_function_reports_the_head_revision(engine: Engine, database_url: str) -> None:
    app = load_function("migrate")
    event = json.loads((ROOT / "events" / "migrate.json").read_text())

    result = app.lambda_handler(event, lambda_context())

    assert result == {"revision": current_revision(engine)}
    assert result["revision"] is not None


def test_migrate_function_checks_without_changing_anything(engine: Engine, database_url: str) -> None:
    app = load_function("migrate")
    event = json.loads((ROOT / "events" / "migrate_check.json").read_text())

    result = app.lambda_handler(event, lambda_context())

    assert result == {
        "ok": True,
        "flipRevision": "f5ad2a562fad",
        "serviceRevision": current_revision(engine),
        "serviceHead": current_revision(engine),
        "problems": [],
        "wouldCreate": [],
    }
