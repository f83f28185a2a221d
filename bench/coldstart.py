"""Cold start: a fresh interpreter importing a handler and serving its first event.

The floor is a fresh interpreter importing only the dependency stack the handler needs in production
(:data:`FLOORS`, by kind of function). Both are timed as whole processes, from the interpreter's
start to the first event served (Lambda freezes the container then: the interpreter's shutdown is
not timed, for either), against the same warm database.

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

_POWERTOOLS = "aws_lambda_powertools.logging, aws_lambda_powertools.metrics, aws_lambda_powertools.tracing"
_STORE = "pg8000, pydantic, sqlalchemy.orm, sqlalchemy.dialects.postgresql.pg8000"

#: The dependency stack of a function in production, by kind: boto3 (the RDS secret is read through
#: Powertools parameters, i.e. a boto3 client, on the first event), SQLAlchemy's ORM and its pg8000
#: dialect, pg8000, pydantic, Powertools' Logger, Metrics and Tracer, and the REST event handler (API)
#: or the batch utilities (SQS consumers). ``*_no_secret`` are the same without boto3: what a probe
#: given ``DATABASE_URL`` (no secret to read) imports, shown for that reason. ``before`` is the floor
#: of issues 6–16 (boto3, bare SQLAlchemy without its ORM or dialect, both Powertools doors), kept
#: for comparison.
FLOORS = {
    "api": f"import boto3, {_STORE}\nimport aws_lambda_powertools.event_handler, {_POWERTOOLS}\n",
    "fl": f"import boto3, {_STORE}\nimport aws_lambda_powertools.utilities.batch, {_POWERTOOLS}\n",
    "api_no_secret": f"import {_STORE}\nimport aws_lambda_powertools.event_handler, {_POWERTOOLS}\n",
    "fl_no_secret": f"import {_STORE}\nimport aws_lambda_powertools.utilities.batch, {_POWERTOOLS}\n",
    "before": (
        "import boto3, sqlalchemy, pg8000, pydantic\n"
        "import aws_lambda_powertools.event_handler, aws_lambda_powertools.utilities.batch\n"
    ),
}


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


def floor_code(imports: str) -> str:
    """The code of a fresh interpreter importing ``imports`` (one of :data:`FLOORS`) and nothing else."""
    return "import json, time\nstarted = time.perf_counter()\n" + imports + "ok = True\n" + _PROBE_TAIL


def function_probe(code_uri: Path, handler: str, event: Mapping[str, Any], layer: Path | None = None) -> str:
    """The code of a fresh interpreter importing ``handler`` from ``code_uri`` and serving ``event``;
    ``flip_models`` from ``layer`` when given (Lambda's path: the function's folder, then the layer's)."""
    module, _, attribute = handler.rpartition(".")
    return (
        "import json, sys, time\nstarted = time.perf_counter()\n"
        f"sys.path[:0] = {[str(code_uri), *([str(layer)] if layer else [])]!r}\n"
        f"handler = getattr(__import__({module!r}), {attribute!r})\n"
        "class Context:\n"
        "    function_name = 'bench'; memory_limit_in_mb = 512; aws_request_id = 'bench'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-2:000000000000:function:bench'\n"
        "    def get_remaining_time_in_millis(self): return 30000\n"
        f"response = handler(json.loads({json.dumps(json.dumps(event))}), Context())\n"
        "status = response.get('statusCode', 200) if isinstance(response, dict) else 200\n"
        "ok = status < 500 and not (isinstance(response, dict) and response.get('batchItemFailures'))\n"
        + _PROBE_TAIL
    )


def measure_interleaved(
    probes: Mapping[str, tuple[Path, str, Callable[[int], Mapping[str, Any]]]],
    repeat: int,
    env: dict[str, str],
) -> tuple[dict[str, ColdStart], list[ColdStart]]:
    """Every floor of :data:`FLOORS` and every function, ``repeat`` rounds, interleaved so drift hits
    them alike; the functions as :func:`shipped` builds them.

    ``probes[name] = (code_uri, handler, event_of_round)``; each round may need a fresh event.
    """
    floor_runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in FLOORS}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in probes}
    with tempfile.TemporaryDirectory(prefix="flip-cold-") as root:
        layer, copies = shipped(Path(root), {code_uri for code_uri, _, _ in probes.values()})
        for round_ in range(repeat):
            for kind, imports in FLOORS.items():
                floor_runs[kind].append(_run(floor_code(imports), Path.cwd(), env))
            for name, (code_uri, handler, event_of) in probes.items():
                code_dir = copies[code_uri]
                run = _run(function_probe(code_dir, handler, event_of(round_), layer), code_dir, env)
                if not run["ok"]:
                    raise RuntimeError(f"{name}: the first event was not served successfully")
                runs[name].append(run)
    floors = {kind: _median(f"floor: {kind}", found) for kind, found in floor_runs.items()}
    return floors, [_median(name, found) for name, found in runs.items()]


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
