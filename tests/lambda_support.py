"""Load a function's ``app.py`` the way Lambda does and give it a context."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from flip_local.runtime import LocalContext

ROOT = Path(__file__).resolve().parents[1]


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every handler is ``app``)."""
    path = ROOT / "functions" / name / "app.py"
    module_name = f"functions_{name.replace('-', '_')}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def lambda_context() -> LocalContext:
    """A Lambda context for one in-process invocation (the local stack's stand-in)."""
    return LocalContext.start("flip-models-test")
