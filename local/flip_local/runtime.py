"""A local stand-in for the Lambda runtime: one worker process per function, started on first use.

Each worker is a fresh interpreter with the function's own environment and ``CodeUri`` on its path
(so handlers keep their per-container caches apart, as in Lambda), serving one invocation at a time.
An invocation that outlives the function's timeout kills the worker, like a Lambda timeout.

Workers ignore SIGINT: a Ctrl-C in the terminal reaches the whole process group, and it is the
parent's to stop them (:meth:`FunctionWorker.stop`), so none of them prints a ``KeyboardInterrupt``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import multiprocessing
import os
import signal
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


#: Keys of a Powertools log line that say nothing a local reader needs (the worker's line names the
#: function; the time is the line's own).
_CONTEXT_KEYS = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "sampling_rate",
    }
)


class _ReadableLines:
    """The stream of the function's Powertools logger in a worker: each JSON line it writes (as
    CloudWatch wants them) becomes one readable line of the local stack's output, with every key;
    anything else is passed through unchanged."""

    def __init__(self, function: str, stream: Any) -> None:
        self.function, self.stream = function, stream

    def write(self, text: str) -> int:
        try:
            entry = json.loads(text)
        except ValueError:
            return int(self.stream.write(text))
        if not isinstance(entry, dict) or "message" not in entry:
            return int(self.stream.write(text))
        at = str(entry.get("timestamp", ""))[11:19] or time.strftime("%H:%M:%S")
        extra = ", ".join(f"{key}={value}" for key, value in entry.items() if key not in _CONTEXT_KEYS)
        line = f"{at}   {self.function} {entry.get('level', '')}: {entry['message']}"
        return int(self.stream.write(f"{line} ({extra})\n" if extra else f"{line}\n"))

    def flush(self) -> None:
        self.stream.flush()


def _readable_logs(service: str, function: str) -> None:
    """Point the function's Powertools log handlers at :class:`_ReadableLines` (the local stack's
    output is read by people; the JSON lines are CloudWatch's form)."""
    for handler in logging.getLogger(service).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_ReadableLines(function, handler.stream))


def _serve(
    code_uri: str,
    handler: str,
    environment: Mapping[str, str],
    name: str,
    timeout: int,
    connection: Connection,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the worker (module docstring)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by _start; now ignored
    os.environ.clear()
    os.environ.update(environment)
    sys.path.insert(0, code_uri)
    module_name, _, attribute = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except Exception:
        connection.send(("init_error", traceback.format_exc()))
        return
    service = environment.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
    if environment.get("FLIP_LOCAL_READABLE_LOGS") == "true":
        _readable_logs(service, name)
    capture = _capture_outcomes(service)
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

    @property
    def started(self) -> bool:
        """Whether the worker process runs (a function is started on its first event)."""
        return self._process is not None and self._process.is_alive()

    def warm(self) -> None:
        """Start the worker now rather than on the first event (``flip-models dev --warm``)."""
        with self._lock:
            if not self.started:
                self._start()

    def _start(self) -> Connection:
        parent, child = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_serve,
            args=(str(self.code_uri), self.handler, self.environment, self.name, self.timeout, child),
            name=f"lambda:{self.name}",
            daemon=True,
        )
        # The child inherits the starting thread's signal mask: with SIGINT blocked from its first
        # instruction, a Ctrl-C while it imports cannot interrupt it either (_serve then ignores it).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
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

    def stop(self) -> bool:
        """Stop the worker process; whether one was running."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        process, self._process = self._process, None
        if process is not None and process.pid is not None:  # started
            running = bool(process.is_alive())
            process.terminate()
            process.join(5)
            return running
        return False
