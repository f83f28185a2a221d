"""A local stand-in for the Lambda runtime: one worker process per function, started on first use.

Each worker is a fresh interpreter with the function's own environment and ``CodeUri`` on its path
(so handlers keep their per-container caches apart, as in Lambda), serving one invocation at a time.
An invocation that outlives the function's timeout kills the worker, like a Lambda timeout.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")


@dataclass
class LocalContext:
    """The attributes of a Lambda context that Powertools and handlers read (the one stand-in: the
    local stack, the tests and the benchmarks use it)."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    deadline: float = 0.0

    @classmethod
    def start(cls, function_name: str, timeout_seconds: int = 30) -> LocalContext:
        """The context of an invocation starting now: a fresh request id, the deadline ahead."""
        return cls(
            function_name=function_name,
            timeout_seconds=timeout_seconds,
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=f"arn:aws:lambda:eu-west-2:000000000000:function:{function_name}",
            deadline=time.monotonic() + timeout_seconds,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def load_module(path: Path, unique_name: str) -> ModuleType:
    """Import the Python file ``path`` as ``unique_name``, once (every handler file is ``app.py``,
    so in-process callers need a name of their own per function)."""
    module = sys.modules.get(unique_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(unique_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique_name] = module
        spec.loader.exec_module(module)
    return module


class _OutcomeCapture(logging.Handler):
    """Keeps the per-message ``outcomes`` of the FL consumers' batch summary line (``applied``,
    ``duplicate``, ``dead-lettered: …``, ``retry: …``), for the poller to print a line per message."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.outcomes: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(record, "outcomes", None)
        if isinstance(found, Mapping):
            self.outcomes.update({str(key): str(value) for key, value in found.items()})

    def take(self) -> dict[str, str]:
        taken, self.outcomes = self.outcomes, {}
        return taken


def _capture_outcomes(service: str) -> _OutcomeCapture:
    """Attach an :class:`_OutcomeCapture` to the function's Powertools logger (named after the
    service). The summary is logged at INFO, below the local default level (WARNING): the logger is
    opened to INFO for the capture only, its own handlers keep the level they had, so what the
    worker prints is unchanged."""
    service_logger = logging.getLogger(service)
    level = service_logger.getEffectiveLevel()
    for handler in service_logger.handlers:
        handler.setLevel(max(handler.level, level))
    service_logger.setLevel(min(level, logging.INFO))
    capture = _OutcomeCapture()
    service_logger.addHandler(capture)
    return capture


def _serve(
    code_uri: str,
    handler: str,
    environment: Mapping[str, str],
    name: str,
    timeout: int,
    connection: Connection,
) -> None:
    os.environ.clear()
    os.environ.update(environment)
    sys.path.insert(0, code_uri)
    module_name, _, attribute = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except Exception:
        connection.send(("init_error", traceback.format_exc()))
        return
    capture = _capture_outcomes(environment.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    connection.send(("ready", None))
    while True:
        try:
            event = connection.recv()
        except EOFError:
            return
        context = LocalContext.start(name, timeout)
        try:
            result = function(event, context)
        except Exception as error:
            traceback.print_exc()
            capture.take()
            connection.send(("error", {"errorType": type(error).__name__, "errorMessage": str(error)}, {}))
        else:
            connection.send(("ok", result, capture.take()))


class InvocationError(RuntimeError):
    """The function raised, timed out or could not start (what Lambda reports as a function error)."""


class FunctionWorker:
    """One warm "container" of a function; ``invoke`` is serialised like a single Lambda instance."""

    def __init__(self, name: str, code_uri: Path, handler: str, environment: Mapping[str, str], timeout: int):
        self.name, self.code_uri, self.handler = name, code_uri, handler
        self.environment, self.timeout = dict(environment), timeout
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None

    def _start(self) -> Connection:
        parent, child = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_serve,
            args=(str(self.code_uri), self.handler, self.environment, self.name, self.timeout, child),
            name=f"lambda:{self.name}",
            daemon=True,
        )
        self._process.start()
        if not parent.poll(60):
            self.stop()
            raise InvocationError(f"{self.name}: the function did not start within 60 s")
        status, detail = parent.recv()
        if status != "ready":
            self.stop()
            raise InvocationError(f"{self.name}: init failed\n{detail}")
        self._connection = parent
        return parent

    def invoke(self, event: Any) -> Any:
        """The function's result (raises :class:`InvocationError` for a function error)."""
        return self.invoke_reporting(event)[0]

    def invoke_reporting(self, event: Any) -> tuple[Any, dict[str, str]]:
        """The function's result, and each SQS message's outcome by message id as the FL consumers
        logged it (empty for other functions)."""
        with self._lock:
            connection = self._connection if self._process and self._process.is_alive() else None
            connection = connection or self._start()
            connection.send(event)
            if not connection.poll(self.timeout + 1):
                self.stop()
                raise InvocationError(f"{self.name}: timed out after {self.timeout} s")
            try:
                status, result, outcomes = connection.recv()
            except EOFError:
                self.stop()
                raise InvocationError(f"{self.name}: the worker process died") from None
            if status != "ok":
                raise InvocationError(f"{self.name}: {result['errorType']}: {result['errorMessage']}")
            return result, outcomes

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        process, self._process = self._process, None
        if process is not None and process.pid is not None:  # started
            process.terminate()
            process.join(5)
