"""Local EventBridge: each ``Schedule`` event of the template fires every N seconds (not its own rate:
a developer should see a scheduled function work within a minute, not wait five).

The function runs in its worker process like any other; each firing gets the event EventBridge
sends (``Scheduled Event`` from ``aws.events``), and what the function returned is logged.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flip_local.runtime import InvocationError

if TYPE_CHECKING:  # the template reader loads cfn-lint: not for `flip-models --help`
    from flip_local.runtime import FunctionWorker
    from flip_local.template import FunctionSpec, ScheduleSource

REGION = "eu-west-2"
ACCOUNT = "000000000000"
#: Seconds between two firings of a ``Schedule`` event locally (``flip-models dev --sweep-every``).
EVERY_SECONDS = 30.0


def scheduled_event(rule_name: str, at: datetime | None = None) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


class Schedule(threading.Thread):
    """Invokes one function every ``every_seconds`` (first after one interval) until stopped."""

    def __init__(
        self,
        spec: FunctionSpec,
        source: ScheduleSource,
        worker: FunctionWorker,
        every_seconds: float,
        log: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"schedule:{spec.logical_id}", daemon=True)
        self.rule_name = f"flip-models-local-{spec.logical_id}{source.name}"
        self.worker, self.every_seconds, self.log = worker, every_seconds, log
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_seconds):
            self.fire()

    def fire(self) -> Any:
        """One firing: invoke the function with a scheduled event; log what it did; return its result."""
        try:
            result = self.worker.invoke(scheduled_event(self.rule_name))
        except InvocationError as error:
            self.log(f"schedule → {self.worker.name}: failed: {error}")
            return None
        if _did_something(result):
            self.log(f"schedule → {self.worker.name}: {json.dumps(result)}")
        return result

    def stop(self) -> None:
        """Stop firing; wait for a firing in progress to finish."""
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(10)  # then the worker is stopped all the same


def _did_something(result: Any) -> bool:
    """A summary worth a line: one whose lists (runs failed, errors) are not all empty."""
    if not isinstance(result, dict):
        return result is not None
    return any(value for value in result.values() if isinstance(value, list))
