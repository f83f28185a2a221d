"""Cold start: a fresh interpreter importing a handler and serving its first event.

The floor is a fresh interpreter importing only the dependency stack every handler needs (boto3,
SQLAlchemy, pg8000, pydantic, Powertools' event handler and batch utilities). Both are timed as
whole processes, from the interpreter's start to the first event served (Lambda freezes the
container then: the interpreter's shutdown is not timed, for either), against the same warm database.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOOR_IMPORTS = (
    "import boto3, sqlalchemy, pg8000, pydantic\n"
    "import aws_lambda_powertools.event_handler, aws_lambda_powertools.utilities.batch\n"
)

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


FLOOR_CODE = (
    "import json, time\nstarted = time.perf_counter()\n" + FLOOR_IMPORTS + "ok = True\n" + _PROBE_TAIL
)


def measure_floor(repeat: int, env: dict[str, str]) -> ColdStart:
    runs = [_run(FLOOR_CODE, Path.cwd(), env) for _ in range(repeat)]
    return ColdStart(
        "floor: dependency imports",
        statistics.median(r["wall"] for r in runs),
        max(r["peak_rss_mb"] for r in runs),
    )


def function_probe(code_uri: Path, handler: str, event: Mapping[str, Any]) -> str:
    """The code of a fresh interpreter importing ``handler`` from ``code_uri`` and serving ``event``."""
    module, _, attribute = handler.rpartition(".")
    return (
        "import json, sys, time\nstarted = time.perf_counter()\n"
        f"sys.path.insert(0, {str(code_uri)!r})\n"
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


def measure_function(
    name: str, code_uri: Path, handler: str, event: dict[str, Any], repeat: int, env: dict[str, str]
) -> ColdStart:
    code = function_probe(code_uri, handler, event)
    runs = [_run(code, code_uri, env) for _ in range(repeat)]
    if not all(run["ok"] for run in runs):
        raise RuntimeError(f"{name}: the first event was not served successfully")
    return ColdStart(name, statistics.median(r["wall"] for r in runs), max(r["peak_rss_mb"] for r in runs))


def measure_interleaved(
    probes: Mapping[str, tuple[Path, str, Callable[[int], Mapping[str, Any]]]],
    repeat: int,
    env: dict[str, str],
) -> tuple[ColdStart, list[ColdStart]]:
    """The floor and every function, ``repeat`` rounds, interleaved so drift hits them alike.

    ``probes[name] = (code_uri, handler, event_of_round)``; each round may need a fresh event.
    """
    floor_runs: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in probes}
    for round_ in range(repeat):
        floor_runs.append(_run(FLOOR_CODE, Path.cwd(), env))
        for name, (code_uri, handler, event_of) in probes.items():
            run = _run(function_probe(code_uri, handler, event_of(round_)), code_uri, env)
            if not run["ok"]:
                raise RuntimeError(f"{name}: the first event was not served successfully")
            runs[name].append(run)
    floor = ColdStart(
        "floor: dependency imports",
        statistics.median(r["wall"] for r in floor_runs),
        max(r["peak_rss_mb"] for r in floor_runs),
    )
    measured = [
        ColdStart(name, statistics.median(r["wall"] for r in found), max(r["peak_rss_mb"] for r in found))
        for name, found in runs.items()
    ]
    return floor, measured


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
