"""The migration Lambda, invoked like Lambda would with its sample event."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from flip_models.migrate import current_revision

ROOT = Path(__file__).resolve().parents[2]


def load_function(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class FakeContext:
    function_name = "flip-models-migrate-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:flip-models-migrate-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_migrate_function_reports_the_head_revision(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    app = load_function("migrate")
    event = json.loads((ROOT / "events" / "migrate.json").read_text())

    result = app.lambda_handler(event, FakeContext())

    assert result == {"revision": current_revision(engine)}
    assert result["revision"] is not None
