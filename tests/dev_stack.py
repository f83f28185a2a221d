"""``flip-models dev`` as a subprocess, for the suites that drive the local stack end to end.

Started on free ports with its output in a file, ready once ``/_health`` answers and its state file
(the queues, for ``flip-models send``) is written; stopped with SIGTERM. It runs in a process group
of its own, as a terminal's foreground job does: :meth:`RunningStack.interrupt` is a Ctrl-C (SIGINT
to the whole group, the stack's worker processes included).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from flip_local.stack import free_port
from tests.lambda_support import ROOT


@dataclass
class RunningStack:
    """A running ``flip-models dev``: its process, API URL, state file, environment and output."""

    process: subprocess.Popen[str]
    api: str
    state_file: Path
    environment: dict[str, str]
    log_file: Path

    def sqs(self) -> tuple[Any, dict[str, dict[str, str]]]:
        """A client of the stack's SQS endpoint, and its queues by logical id."""
        state = json.loads(self.state_file.read_text())
        client = boto3.client("sqs", endpoint_url=state["sqs_endpoint"], region_name="eu-west-2")
        return client, state["queues"]

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C in the stack's terminal: SIGINT to its process group; its exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


@contextmanager
def running_dev_stack(
    environment: Mapping[str, str], arguments: Sequence[str], workdir: Path, timeout: float = 90
) -> Iterator[RunningStack]:
    """``flip-models dev --port <free> --sqs-port <free> *arguments`` with ``environment``; its state
    file and output under ``workdir``. Fails the test if it does not start, or does not stop on
    SIGTERM."""
    http_port = free_port()
    environment = {**environment, "FLIP_LOCAL_STATE": str(workdir / "stack.json")}
    log_file = workdir / "dev.log"
    command = [
        str(Path(sys.executable).with_name("flip-models")),
        "dev",
        "--port",
        str(http_port),
        "--sqs-port",
        str(free_port()),
        "--ingress-port",
        str(free_port()),
        *arguments,
    ]
    with log_file.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    stack = RunningStack(
        process, f"http://127.0.0.1:{http_port}", workdir / "stack.json", environment, log_file
    )
    try:
        _wait_ready(stack, timeout)
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            pytest.fail("flip-models dev did not stop on SIGTERM")


def _wait_ready(stack: RunningStack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"flip-models dev exited early:\n{stack.log_tail(80)}")
        try:
            with urllib.request.urlopen(f"{stack.api}/_health", timeout=2) as response:
                if response.status == 200 and stack.state_file.exists():
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"flip-models dev did not become ready:\n{stack.log_tail(80)}")
