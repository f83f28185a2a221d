"""openapi.json is generated from the API functions' resolvers and must be checked in up to date."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

from tests.lambda_support import ROOT
from tests.template.test_template import functions


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flip_openapi_script", ROOT / "scripts" / "openapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_openapi_json_matches_the_handlers() -> None:
    generated = _generator().build_openapi()
    assert (ROOT / "openapi.json").read_text() == generated, "openapi.json is stale: run `make openapi`"


def test_openapi_documents_every_api_route_of_the_template() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    declared = {
        (event["Properties"]["Path"], event["Properties"]["Method"].lower())
        for properties in functions().values()
        for event in properties.get("Events", {}).values()
        if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "FlipApi"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == declared
    assert len(declared) == 15
