"""Cold start: a fresh interpreter importing a handler and serving its first event.

A function's floor is a fresh interpreter importing only the dependency stack that function needs:
every module outside ``flip_models`` and the handler's own that a probe of the function had loaded
once its first event was served (:func:`dependency_modules`: SQLAlchemy's ORM and dialect, pg8000,
the parts of pydantic and Powertools it uses, the standard library modules), plus boto3, which the
function imports in production to read the RDS secret (Powertools parameters). The probes are given
``DATABASE_URL`` instead of the secret, so each imports boto3 first, as the secret's read would:
floor and function carry the same boto3, and neither carries a Secrets Manager call. Both are timed as
whole processes, from the interpreter's start to the first event served (Lambda freezes the
container then: the interpreter's shutdown is not timed, for either), against the same warm database.

Both import what a deployment ships (:func:`shipped`): ``flip_models`` compiled as the layer's build
compiles it (``shared/Makefile``), the function's own folder as ``sam build`` copies it (source
only), and the dependencies compiled (as the layer ships them), not whatever the working tree's
``__pycache__`` folders happen to hold.
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The floor of issues 6–16, one for every function (boto3, bare SQLAlchemy without its ORM or
#: dialect, pydantic's lazy package alone, both Powertools doors), kept for comparison.
FLOOR_BEFORE = (
    "import boto3, sqlalchemy, pg8000, pydantic\n"
    "import aws_lambda_powertools.event_handler, aws_lambda_powertools.utilities.batch\n"
)
#: What a function imports in production to read the RDS secret, and here (given ``DATABASE_URL``)
#: only because the probe and the floor both import it first.
BOTO3_IMPORT = "import boto3\n"


#: Peak RSS from ``VmHWM`` (the process's own high-water mark; ``ru_maxrss`` would inherit the
#: parent's across fork and exec).
_PROBE_TAIL = (
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "print(json.dumps({'seconds': time.perf_counter() - started,"
    " 'peak_rss_mb': int(hwm) / 1024, 'ok': ok}), flush=True)\n"
    # Lambda freezes a container after its first event, it never tears the interpreter down: leave
    # without the interpreter's shutdown (module teardown, garbage collection), floor and handler alike.
    "import os; os._exit(0)\n"
)
#: The modules loaded (those with a file: what importing costs), as a JSON list.
_MODULES_TAIL = (
    "print(json.dumps(sorted(n for n, m in list(sys.modules.items()) if getattr(m, '__file__', None))),"
    " flush=True)\nimport os; os._exit(0)\n"
)


#: The layer's package and the functions' folders, as in the repository.
SHARED = Path(__file__).resolve().parents[1] / "shared"


def shipped(root: Path, code_uris: Iterable[Path]) -> tuple[Path, dict[Path, Path]]:
    """What a deployment ships, under ``root``: the layer's ``python/`` folder holding ``flip_models``
    compiled as ``shared/Makefile`` compiles it (``unchecked-hash`` bytecode), and a source-only copy
    of each function folder (``sam build`` compiles nothing of a function's own code).

    The dependencies stay where they are installed; they are compiled in place (what pip does when it
    installs, and what the layer ships) so that neither the floor nor a function compiles one of them.
    Returns the layer's ``python/`` folder and each function folder's copy.
    """
    for folder in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}:
        compileall.compile_dir(folder, quiet=2, workers=0)  # a file that does not compile stays as it is
    layer = root / "layer" / "python"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(SHARED / "flip_models", layer / "flip_models", ignore=ignore)
    if not compileall.compile_dir(
        layer, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    ):
        raise RuntimeError("flip_models does not compile")
    copies = {}
    for code_uri in code_uris:
        copies[code_uri] = root / "functions" / code_uri.name
        shutil.copytree(code_uri, copies[code_uri], ignore=ignore)
    return layer, copies


@dataclass(frozen=True)
class ColdStart:
    name: str
    seconds: float  # median whole-process wall time
    peak_rss_mb: float


def _run(code: str, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    started = __import__("time").perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=120,
    )
    elapsed = __import__("time").perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"cold-start probe failed:\n{result.stderr[-2000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return {**measured, "wall": elapsed}


def floor_code(imports: str, modules: Iterable[str] = ()) -> str:
    """The code of a fresh interpreter running ``imports``, then importing ``modules``, and nothing else."""
    return (
        "import importlib, json, time\nstarted = time.perf_counter()\n"
        + imports
        + f"for name in {sorted(modules)!r}:\n    importlib.import_module(name)\n"
        + "ok = True\n"
        + _PROBE_TAIL
    )


def function_probe(
    code_uri: Path,
    handler: str,
    event: Mapping[str, Any],
    layer: Path | None = None,
    tail: str = _PROBE_TAIL,
    imports: str = "",
) -> str:
    """The code of a fresh interpreter running ``imports``, then importing ``handler`` from ``code_uri``
    and serving ``event``; ``flip_models`` from ``layer`` when given (Lambda's path: the function's
    folder, then the layer's)."""
    module, _, attribute = handler.rpartition(".")
    return (
        "import json, sys, time\nstarted = time.perf_counter()\n"
        + imports
        + f"sys.path[:0] = {[str(code_uri), *([str(layer)] if layer else [])]!r}\n"
        + f"handler = getattr(__import__({module!r}), {attribute!r})\n"
        "class Context:\n"
        "    function_name = 'bench'; memory_limit_in_mb = 512; aws_request_id = 'bench'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-2:000000000000:function:bench'\n"
        "    def get_remaining_time_in_millis(self): return 30000\n"
        f"response = handler(json.loads({json.dumps(json.dumps(event))}), Context())\n"
        "status = response.get('statusCode', 200) if isinstance(response, dict) else 200\n"
        "ok = status < 500 and not (isinstance(response, dict) and response.get('batchItemFailures'))\n"
        + tail
    )


def dependency_modules(
    code_dir: Path, handler: str, event: Mapping[str, Any], layer: Path, env: dict[str, str]
) -> list[str]:
    """The modules a function loads from its start to its first event served, outside ``flip_models``
    and its own folder: the dependency stack it needs (its floor imports them)."""
    own = {"flip_models", handler.rpartition(".")[0].split(".")[0], "__main__"}
    result = subprocess.run(
        [sys.executable, "-c", function_probe(code_dir, handler, event, layer, _MODULES_TAIL)],
        capture_output=True,
        text=True,
        cwd=code_dir,
        env=env,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold-start probe failed:\n{result.stderr[-2000:]}")
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return [name for name in loaded if name.split(".")[0] not in own]


@dataclass(frozen=True)
class Measured:
    """A function's cold start and its floors, measured in the same rounds."""

    function: ColdStart
    floor: ColdStart  # its dependency stack, with boto3 (the secret, in production)


def measure_interleaved(
    probes: Mapping[str, tuple[Path, str, Callable[[int], Mapping[str, Any]]]],
    repeat: int,
    env: dict[str, str],
) -> tuple[ColdStart, dict[str, Measured]]:
    """Every function (boto3 imported first, as for the secret in production), its floor and issue 6's
    floor, ``repeat`` rounds, interleaved so drift hits them alike; the functions as :func:`shipped`
    builds them. A first round, not timed, finds each function's dependency modules (and warms the
    file cache).

    ``probes[name] = (code_uri, handler, event_of_round)``; each round may need a fresh event
    (round ``-1`` is the untimed one).
    """
    before: list[dict[str, Any]] = []
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"function": [], "floor": []} for name in probes
    }
    with tempfile.TemporaryDirectory(prefix="flip-cold-") as root:
        layer, copies = shipped(Path(root), {code_uri for code_uri, _, _ in probes.values()})
        floors = {}
        for name, (code_uri, handler, event_of) in probes.items():
            modules = dependency_modules(copies[code_uri], handler, event_of(-1), layer, env)
            floors[name] = floor_code(BOTO3_IMPORT, modules)
        for round_ in range(repeat):
            before.append(_run(floor_code(FLOOR_BEFORE), Path.cwd(), env))
            for name, (code_uri, handler, event_of) in probes.items():
                code_dir = copies[code_uri]
                probe = function_probe(code_dir, handler, event_of(round_), layer, imports=BOTO3_IMPORT)
                run = _run(probe, code_dir, env)
                if not run["ok"]:
                    raise RuntimeError(f"{name}: the first event was not served successfully")
                runs[name]["function"].append(run)
                runs[name]["floor"].append(_run(floors[name], Path.cwd(), env))
    measured = {
        name: Measured(
            _median(name, found["function"]),
            _median(f"{name} floor", found["floor"]),
        )
        for name, found in runs.items()
    }
    return _median("issue 6's floor", before), measured


def _median(name: str, runs: list[dict[str, Any]]) -> ColdStart:
    return ColdStart(name, statistics.median(r["wall"] for r in runs), max(r["peak_rss_mb"] for r in runs))


def probe_environment(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a Lambda container has: the function's variables, no X-Ray daemon, no metrics sink."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {
        **keep,
        "DATABASE_URL": database_url,
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "flip-models",
        "POWERTOOLS_METRICS_NAMESPACE": "FLIP",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(extra or {}),
    }
