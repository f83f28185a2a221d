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
        and any(
            event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "FlipApi"}
            for event in resource["Properties"].get("Events", {}).values()
        )
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


def api_routes() -> dict[tuple[str, str], str]:
    """(resource, METHOD) of every ``Api`` event → the logical id of the function serving it."""
    return {
        (event["Properties"]["Path"], event["Properties"]["Method"].upper()): logical_id
        for logical_id, properties in api_functions().items()
        for event in properties["Events"].values()
        if event["Type"] == "Api"
    }


def sample_events() -> dict[tuple[str, str], Path]:
    """The API Gateway proxy events of ``events/``, by (resource, METHOD)."""
    found: dict[tuple[str, str], Path] = {}
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        # The FL ingress's (FLIP's internal routes, under /api) is tested with it: test_fl_ingress.py.
        if isinstance(event, dict) and "httpMethod" in event and not event["resource"].startswith("/api/"):
            key = (event["resource"], event["httpMethod"])
            assert key not in found, f"{path.name} and {found[key].name} both sample {key}"
            found[key] = path
    return found


def test_every_api_route_has_a_sample_event() -> None:
    routes = api_routes()
    assert len(routes) == 15
    assert set(sample_events()) == set(routes)


@pytest.mark.parametrize("route", sorted(api_routes()), ids=lambda route: f"{route[1]} {route[0]}")
def test_sample_event_is_answered_with_success(route: tuple[str, str], session: Session) -> None:
    logical_id = api_routes()[route]
    properties = api_functions()[logical_id]
    # The service package must come from the layer the template ships.
    assert any(
        Path(flip_models.__file__).resolve().is_relative_to(d.resolve()) for d in layer_dirs(properties)
    )
    seed_demo(session)
    session.commit()
    event = json.loads(sample_events()[route].read_text())

    result = load_handler(logical_id, properties)(event, lambda_context())

    assert 200 <= result["statusCode"] < 300, result
    assert result["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["*"]
    if result["statusCode"] != 204:
        assert json.loads(result["body"]) is not None
