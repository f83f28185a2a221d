"""Fixtures of the reliability suites (issue 7): the local stack as a process, demo data, figures.

Every suite records what it tried (cases, faults, messages sent/applied/rejected/duplicated) in
:data:`FIGURES`; at the end of the run they are printed and written to ``last-run.json`` beside this
file (git-ignored), which is where ``docs/reliability.md`` takes its figures from.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from flip_models.demo import DemoSummary, seed_demo
from flip_models.tables import Base
from tests.handlers.conftest import dead_letter_queue  # noqa: F401 (moto DLQs, a shared fixture)
from tests.integration.conftest import fl_queues, localstack_endpoint, sqs  # noqa: F401 (LocalStack)
from tests.lambda_support import ROOT

HERE = Path(__file__).resolve().parent
LAST_RUN = HERE / "last-run.json"

#: In CI the fuzzers replay one fixed sequence of choices (a red build means a change broke
#: something, not that a new case was drawn); elsewhere every run explores new cases.
DERANDOMIZE = os.environ.get("CI", "").lower() == "true"

#: suite → figure → count, filled by the suites of this run.
FIGURES: dict[str, dict[str, Any]] = {}


def record(suite: str, **figures: Any) -> None:
    """Add ``figures`` to the suite's counts (numbers are summed, anything else replaced)."""
    found = FIGURES.setdefault(suite, {})
    for name, value in figures.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = found.get(name, 0) + value
        else:
            found[name] = value


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for suite, figures in sorted(FIGURES.items()):
        shown = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{suite}: {shown}")
    LAST_RUN.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    terminalreporter.write_line(f"(written to {LAST_RUN.relative_to(ROOT)})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reset_to_demo(engine: Engine) -> DemoSummary:
    """Empty every table and insert the demo data again (a known world for the next cases)."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    with sessionmaker(bind=engine)() as session:
        summary = seed_demo(session)
        session.commit()
    return summary


@dataclass(frozen=True)
class LocalStack:
    """A running ``flip-models dev``: its API URL and the file its output goes to."""

    api_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def local_stack(database_url: str) -> Iterator[LocalStack]:
    """``flip-models dev`` as a subprocess on free ports, on this test run's database, moto for SQS.

    Stopped with SIGTERM (as Ctrl-C would) at the end of the module.
    """
    http_port, sqs_port = free_port(), free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")}
    environment |= {"DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below)
        prefix="flip-local-stack-", suffix=".log", delete=False
    )
    command = [
        str(Path(sys.executable).with_name("flip-models")),
        "dev",
        "--port",
        str(http_port),
        "--sqs-port",
        str(sqs_port),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    stack = LocalStack(f"http://127.0.0.1:{http_port}", Path(log_file.name))
    try:
        deadline = time.monotonic() + 90
        while not _answers(f"{stack.api_url}/_health"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the local stack did not start:\n{stack.log_tail()}")
            time.sleep(0.3)
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log_file.close()
        Path(log_file.name).unlink(missing_ok=True)
