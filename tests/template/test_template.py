"""template.yaml: cfn-lint clean, and every function's handler importable from its CodeUri + layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def load_template() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE))
    assert not matches, matches
    assert template is not None
    return dict(template)


def functions() -> dict[str, dict[str, Any]]:
    resources = load_template()["Resources"]
    return {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_cfn_lint_reports_nothing() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(functions()))
def test_handler_imports_with_only_its_code_uri_and_the_layer_on_the_path(name: str) -> None:
    properties = functions()[name]
    module, _, attribute = properties["Handler"].rpartition(".")
    code_uri = ROOT / properties["CodeUri"]
    probe = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = [{str(code_uri)!r}, {str(ROOT / 'shared')!r}]\n"
        f"handler = getattr(importlib.import_module({module!r}), {attribute!r})\n"
        "files = [getattr(m, '__file__', None) or '' for m in list(sys.modules.values())]\n"
        "print(json.dumps({'callable': callable(handler), 'file': sys.modules[%r].__file__,"
        " 'loaded': files}))\n" % module
    )
    # Start in an empty directory so that the repository root is not importable by accident.
    env = {**os.environ, "PYTHONPATH": "", "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=code_uri, env=env
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["callable"] is True
    assert Path(answer["file"]).resolve().is_relative_to(code_uri.resolve())
    # Nothing of the repository beyond the function's CodeUri and the layer (shared/) was imported:
    # the local stack, benchmarks and tests are not deployed.
    allowed = (code_uri.resolve(), (ROOT / "shared").resolve(), (ROOT / ".venv").resolve())
    stray = [
        loaded
        for loaded in answer["loaded"]
        if loaded
        and Path(loaded).resolve().is_relative_to(ROOT.resolve())
        and not any(Path(loaded).resolve().is_relative_to(base) for base in allowed)
    ]
    assert stray == []
