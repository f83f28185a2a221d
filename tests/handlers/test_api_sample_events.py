"""Every API function's sample event, invoked the way ``sam local invoke -e events/<name>.json`` would.

Handler, CodeUri and layers come from ``template.yaml``; the demo data is seeded so the event's ids
resolve. Each event must be answered with a 2xx.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

import flip_models
from flip_local.demo import seed_demo
from tests.lambda_support import ROOT, lambda_context
from tests.template.test_template import load_template


def api_functions() -> dict[str, dict[str, Any]]:
    """Template functions with an ``Api`` event, by logical id."""
    resources = load_template()["Resources"]
    return {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(event["Type"] == "Api" for event in resource["Properties"].get("Events", {}).values())
    }


def layer_dirs(properties: dict[str, Any]) -> list[Path]:
    """The ContentUri of every layer the function gets (its own and the Globals')."""
    resources = load_template()["Resources"]
    globals_ = load_template().get("Globals", {}).get("Function", {})
    refs = [*globals_.get("Layers", []), *properties.get("Layers", [])]
    return [ROOT / resources[ref["Ref"]]["Properties"]["ContentUri"] for ref in refs]


def load_handler(logical_id: str, properties: dict[str, Any]) -> Any:
    """Import ``Handler`` from ``CodeUri`` under a module name of its own (every handler is ``app``)."""
    module, _, attribute = properties["Handler"].rpartition(".")
    path = ROOT / properties["CodeUri"] / f"{module}.py"
    name = f"sam_invoke_{logical_id}_{module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return getattr(sys.modules[name], attribute)


def test_every_api_function_has_a_sample_event() -> None:
    folders = {Path(props["CodeUri"]).name for props in api_functions().values()}
    assert len(folders) == 11
    missing = [folder for folder in sorted(folders) if not (ROOT / "events" / f"{folder}.json").is_file()]
    assert missing == []


@pytest.mark.parametrize("logical_id", sorted(api_functions()))
def test_sample_event_is_answered_with_success(logical_id: str, session: Session) -> None:
    properties = api_functions()[logical_id]
    # The service package must come from the layer the template ships.
    assert any(
        Path(flip_models.__file__).resolve().is_relative_to(d.resolve()) for d in layer_dirs(properties)
    )
    seed_demo(session)
    session.commit()
    event = json.loads((ROOT / "events" / f"{Path(properties['CodeUri']).name}.json").read_text())
    (api_event,) = [e for e in properties["Events"].values() if e["Type"] == "Api"]
    assert event["resource"] == api_event["Properties"]["Path"]
    assert event["httpMethod"] == api_event["Properties"]["Method"].upper()

    result = load_handler(logical_id, properties)(event, lambda_context())

    assert 200 <= result["statusCode"] < 300, result
    assert result["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["*"]
    if result["statusCode"] != 204:
        assert json.loads(result["body"]) is not None
