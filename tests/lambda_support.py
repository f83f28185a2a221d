"""Load a function's ``app.py`` the way Lambda does and give it a context."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from flip_local.runtime import LocalContext, load_module

ROOT = Path(__file__).resolve().parents[1]


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every handler is ``app``)."""
    return load_module(ROOT / "functions" / name / "app.py", f"functions_{name.replace('-', '_')}_app")


def lambda_context() -> LocalContext:
    """A Lambda context for one in-process invocation (the local stack's stand-in)."""
    return LocalContext.start("flip-models-test")
