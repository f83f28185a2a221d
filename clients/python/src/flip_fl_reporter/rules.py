"""SPEC §5's body rules, checked on the FL server before a message leaves it.

These are the rules the model service's consumers apply to a message body (in the service, the
pydantic models ``FLLogMessage``, ``FLMetricMessage`` and ``FLStatusMessage``); a body that breaks
one would only end in a dead-letter queue. The client cannot import the service (it runs in FL
server images), so the rules are written again here and both sides' tests read one table of cases,
``tests/data/fl_message_cases.json``, so that they cannot drift apart.

A rule is reported as ``field: message``, with the field named as the service names it (the prefix
of its ``rejection_reason``). Fields are checked in the service's order, so a body with several
faults names the same field on both sides.

The bodies checked here are JSON values as the client builds them (``str``, ``int``, ``float``,
``bool``, ``None``, ``dict``); the lenient conversions the service also accepts (a round sent as
``"3"``) are not reproduced, because the client never sends them (see :mod:`flip_fl_reporter.messages`).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from typing import Any, Callable, Final, Optional

#: Largest value of a PostgreSQL ``integer`` column (``global_round``), and the smallest.
MAX_ROUND: Final = 2_147_483_647
MIN_INT4: Final = -2_147_483_648
#: ``details`` may take at most this many bytes as JSON (measured as ``json.dumps`` writes it).
MAX_DETAILS_BYTES: Final = 8192
#: Event types that carry no round (FLIP#1390).
ROUND_LESS_EVENTS: Final = frozenset({"JOB_WAITING_FOR_RESOURCES"})
#: Event types only the hub may write.
HUB_RESERVED_EVENTS: Final = frozenset({"QUEUE_POSITION"})
MAX_EVENT_TYPE_LENGTH: Final = 64
MAX_LABEL_LENGTH: Final = 64
MAX_EVENT_ID_LENGTH: Final = 512
#: The statuses an FL server may set; ``TRAINING_STARTED`` is older images' name for ``RUNNING``.
FL_STATUSES: Final = frozenset(
    {
        "INITIATED",
        "PREPARED",
        "RUNNING",
        "RESULTS_UPLOADED",
        "RESULTS_UPLOAD_FAILED",
        "ERROR",
        "STOPPED",
        "TRAINING_STARTED",
    }
)
#: Only the service sets ``PENDING``.
NEVER_FROM_FL: Final = "PENDING"


class Invalid(ValueError):
    """A body that breaks a rule: ``field`` as the service names it, and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def reason(self) -> str:
        """``field: message``, the form of the service's ``rejection_reason``."""
        return f"{self.field}: {self.message}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _model_id(body: Mapping[str, Any]) -> None:
    if "model_id" not in body or body["model_id"] is None:
        raise Invalid("model_id", "required")
    value = body["model_id"]
    if not isinstance(value, str):
        raise Invalid("model_id", "must be a UUID string")
    try:
        uuid.UUID(value)
    except ValueError:
        raise Invalid("model_id", "not a valid UUID") from None


def _event_id(body: Mapping[str, Any]) -> None:
    value = body.get("event_id")
    if value is None:
        return
    if not isinstance(value, str):
        raise Invalid("event_id", "must be a string")
    if len(value) > MAX_EVENT_ID_LENGTH:
        raise Invalid("event_id", f"at most {MAX_EVENT_ID_LENGTH} characters")


def _optional_text(body: Mapping[str, Any], field: str) -> Optional[str]:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise Invalid(field, "must be a string")
    return value


def _optional_int(body: Mapping[str, Any], field: str) -> Optional[int]:
    value = body.get(field)
    if value is None:
        return None
    if not _is_int(value) and not (isinstance(value, float) and value.is_integer()):
        raise Invalid(field, "must be an integer")
    return int(value)


def _label(body: Mapping[str, Any], field: str, required: bool) -> None:
    value = body.get(field)
    if value is None:
        if required:
            raise Invalid(field, "required")
        return
    if not isinstance(value, str):
        raise Invalid(field, "must be a string")
    if not 1 <= len(value) <= MAX_LABEL_LENGTH:
        raise Invalid(field, f"1 to {MAX_LABEL_LENGTH} characters")


def _finite(body: Mapping[str, Any], field: str) -> Optional[float]:
    value = body.get(field)
    if value is None:
        return None
    if not _is_number(value):
        raise Invalid(field, "must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise Invalid(field, "must be a finite number")
    return number


def details_size(details: Mapping[str, Any]) -> int:
    """Bytes of ``details`` as JSON, measured as the service measures it."""
    return len(json.dumps(details).encode())


def check_log(body: Mapping[str, Any]) -> None:
    """``fl-logs``: a free-text line (``log``) or a typed event (``event_type``)."""
    _model_id(body)
    _event_id(body)
    _optional_text(body, "fl_client_name")
    log = _optional_text(body, "log")
    event_type = _optional_text(body, "event_type")
    global_round = _optional_int(body, "global_round")
    details = body.get("details")
    if details is not None and not isinstance(details, Mapping):
        raise Invalid("details", "must be an object")
    if "success" in body and not isinstance(body["success"], bool):
        raise Invalid("success", "must be a boolean")
    if (log is None) == (event_type is None):
        raise Invalid("log, event_type", "exactly one of the two must be set")
    if event_type is not None:
        _check_event(event_type, global_round)
    elif global_round is not None and not MIN_INT4 <= global_round <= MAX_ROUND:
        raise Invalid("global_round", f"must be between {MIN_INT4} and {MAX_ROUND}")
    if details is not None:
        size = details_size(details)
        if size > MAX_DETAILS_BYTES:
            raise Invalid("details", f"{size} bytes as JSON, at most {MAX_DETAILS_BYTES} allowed")


def _check_event(event_type: str, global_round: Optional[int]) -> None:
    name = event_type.strip()
    if not name:
        raise Invalid("event_type", "must not be blank")
    if len(event_type) > MAX_EVENT_TYPE_LENGTH:
        raise Invalid("event_type", f"at most {MAX_EVENT_TYPE_LENGTH} characters")
    if name in HUB_RESERVED_EVENTS:
        raise Invalid("event_type", f"{name} is reserved for the hub")
    if global_round is None:
        if name not in ROUND_LESS_EVENTS:
            raise Invalid("global_round", "required when event_type is set")
    elif not 1 <= global_round <= MAX_ROUND:
        raise Invalid("global_round", f"must be between 1 and {MAX_ROUND} for an event")


def check_metric(body: Mapping[str, Any]) -> None:
    """``fl-metrics``: one value of one metric, for one FL client and round (rounds may be 0-based)."""
    _model_id(body)
    _event_id(body)
    if body.get("fl_client_name") is None:
        raise Invalid("fl_client_name", "required")
    _optional_text(body, "fl_client_name")
    global_round = _optional_int(body, "global_round")
    if global_round is None:
        raise Invalid("global_round", "required")
    if not 0 <= global_round <= MAX_ROUND:
        raise Invalid("global_round", f"must be between 0 and {MAX_ROUND}")
    _label(body, "label", required=True)
    if body.get("result") is None:
        raise Invalid("result", "required")
    _finite(body, "result")
    _label(body, "x_label", required=False)
    _finite(body, "x_value")  # absent: the round, which is finite


def check_status(body: Mapping[str, Any]) -> None:
    """``fl-status.fifo``: a model status; never ``PENDING``; case and spaces do not matter."""
    _model_id(body)
    _event_id(body)
    status = body.get("status")
    if not isinstance(status, str):
        raise Invalid("status", "must be a string")
    name = status.strip().upper()
    if name == NEVER_FROM_FL:
        raise Invalid("status", "PENDING is never set by an FL server")
    if name not in FL_STATUSES:
        raise Invalid("status", f"unknown status {status[:40]!r}")


#: The rules of each queue, by the name the client gives it.
CHECKS: Final[dict[str, Callable[[Mapping[str, Any]], None]]] = {
    "logs": check_log,
    "metrics": check_metric,
    "status": check_status,
}


def broken_rule(queue: str, body: Any) -> Optional[Invalid]:
    """The first rule of ``queue`` (``logs``, ``metrics`` or ``status``) that ``body`` breaks, or None."""
    if not isinstance(body, Mapping):
        return Invalid("body", "must be a JSON object")
    try:
        CHECKS[queue](body)
    except Invalid as invalid:
        return invalid
    return None
