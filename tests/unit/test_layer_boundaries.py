"""The layer holds only what a Lambda runs, and its dependencies point one way (doors → core → store).

The shape: no module of the layer is over :data:`MAX_LINES` lines (one job each), the layer's imports
(lazy ones included) form no cycle, and the dev tools' lower floor (``local/``) reaches up to the
benchmarks (``bench/``) only lazily, inside the command that runs them.

Two proofs of the layer's reach: every import statement of the layer and of the handlers (lazy
ones and type-checking ones included) names the standard library, the layer's own dependencies or
the layer itself; and a fresh interpreter that sees only ``shared/`` and the installed
dependencies (not the repository, not the dev tools installed in editable mode) imports every
module of the layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lambda_support import ROOT

LAYER = ROOT / "shared" / "flip_models"
#: What the layer may import besides itself and the standard library: shared/requirements.txt (by
#: import name) and what the Lambda runtime provides (boto3, botocore); stubs for type checking only.
LAYER_DEPENDENCIES = {
    "aws_lambda_powertools",
    "sqlalchemy",
    "pg8000",
    "pydantic",
    "pydantic_core",
    "alembic",
    "boto3",
    "botocore",
}
TYPE_CHECKING_ONLY = {"mypy_boto3_sqs"}
#: The most lines a module of the layer may have: beyond it, it holds two jobs (docs/architecture.md).
MAX_LINES = 300
#: Rank of each part of the layer: a module may import only its own part or lower ones.
RANKS = {"enums": 0, "errors": 0, "observability": 0, "store": 1, "core": 2, "api": 3, "fl": 3}


def _modules() -> list[Path]:
    return sorted(path for path in LAYER.rglob("*.py") if "migrations/versions" not in path.as_posix())


def _part(path: Path) -> str:
    relative = path.relative_to(LAYER)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else relative.stem


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Every absolute import of a file: (dotted module name, inside ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            guarded.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in guarded
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "flip_models":  # from flip_models import store → flip_models.store
                for alias in node.names:
                    yield f"flip_models.{alias.name}", id(node) in guarded
            else:
                yield node.module, id(node) in guarded


def _is_allowed(module: str, type_checking: bool) -> bool:
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or top in LAYER_DEPENDENCIES
        or top == "flip_models"
        or (type_checking and top in TYPE_CHECKING_ONLY)
    )


@pytest.mark.parametrize(
    "path",
    [*_modules(), *sorted((ROOT / "functions").glob("*/app.py"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_the_layer_and_the_handlers_import_only_the_layer_and_its_dependencies(path: Path) -> None:
    outside = [module for module, guarded in _imports(path) if not _is_allowed(module, guarded)]

    assert outside == [], f"{path.relative_to(ROOT)} imports {outside} (dev tools stay out of the layer)"


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(LAYER)))
def test_dependencies_point_from_the_doors_to_the_core_to_the_store(path: Path) -> None:
    part = _part(path)
    if part == "__init__":
        return
    wrong = []
    for module, _ in _imports(path):
        pieces = module.split(".")
        if pieces[0] != "flip_models" or len(pieces) < 2:
            continue
        target = pieces[1]
        if target != part and (RANKS[target] >= RANKS[part]):
            wrong.append(module)

    assert wrong == [], f"{part} may not import {wrong}: doors → core → store, and the doors not each other"


def test_a_lambda_with_only_the_layer_imports_every_module_of_it() -> None:
    """No ``.pth`` file is processed (``-S`` and a plain ``sys.path``), so the editable install's
    finders for the repository's dev tools (flip_local, bench) are not there: only ``shared/`` and
    the installed distributions, as in Lambda's ``/opt/python``."""
    names = [
        ".".join(path.relative_to(LAYER.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in _modules()
        if "migrations" not in path.parts
    ]
    script = (
        "import importlib, sys\n"
        f"sys.path[:] = [{str(LAYER.parent)!r}, {sysconfig.get_paths()['purelib']!r}, "
        f"{sysconfig.get_paths()['platlib']!r}, *[p for p in sys.path if 'site-packages' not in p]]\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'flip_local' not in sys.modules and 'bench' not in sys.modules\n"
        "try:\n"
        "    import flip_local\n"
        "except ModuleNotFoundError:\n"
        "    print('isolated')\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=False, cwd="/"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "isolated"  # the dev tools were really out of reach


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(LAYER.parent).with_suffix("").parts).removesuffix(".__init__")


def _layer_edges(path: Path, names: set[str]) -> set[str]:
    """The layer's modules a module imports, lazily or not (``if TYPE_CHECKING`` ones aside): a name
    imported from a package that is a module of the layer counts as that module, else the package."""
    tree = ast.parse(path.read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            guarded.update(id(child) for child in ast.walk(node))
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in names else node.module)
    return (targets & names) - {_module_name(path)}


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(LAYER)))
def test_no_module_of_the_layer_is_over_the_line_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())

    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by job"


def test_the_layers_imports_form_no_cycle() -> None:
    """Lazy imports count: a cycle they hide is still two modules that need each other."""
    modules = {_module_name(path): path for path in _modules()}
    names = set(modules)
    graph = {name: _layer_edges(path, names) for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])

    assert cycles == [], "import cycles: " + "; ".join(" → ".join(cycle) for cycle in cycles)


def _module_level_imports(path: Path) -> Iterator[str]:
    """The imports a module runs when it is imported (not those inside a function)."""

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                yield child.module
            yield from walk(child)

    yield from walk(ast.parse(path.read_text()))


@pytest.mark.parametrize(
    "path", sorted((ROOT / "local").rglob("*.py")), ids=lambda path: str(path.relative_to(ROOT))
)
def test_the_local_tools_import_the_benchmarks_only_inside_the_bench_command(path: Path) -> None:
    upward = [module for module in _module_level_imports(path) if module.split(".")[0] == "bench"]

    assert upward == [], f"{path.relative_to(ROOT)} imports {upward} at module level"
