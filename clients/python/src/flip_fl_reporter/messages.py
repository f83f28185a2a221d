"""From a reporter call to the exact message that goes to SQS.

1. The call's arguments become a JSON body of plain values: a model id in its canonical form,
   numbers from numpy or torch scalars as ``int``/``float``, enums as their value. A value of the
   wrong type (a round given as text) is refused here rather than guessed at.
2. A free-text ``log`` longer than the service stores is cut here, the way the service cuts it
   (SPEC §5), so that a huge traceback still fits in one SQS message.
3. The body is checked with SPEC §5's rules (:mod:`flip_fl_reporter.rules`), and with what the
   service's database and SQS would refuse later (NUL characters, lone surrogates, non-finite
   numbers, a body over the size limit).
4. Its ``event_id`` is derived from the body and the reporter's ``run_id``: the same call in the
   same run always gives the same id, so a retried call is applied once by the service, however
   many times it reaches SQS.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import operator
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Optional

from flip_fl_reporter.rules import Invalid, broken_rule

#: A free-text log is stored cut to this many characters (SPEC §5) ...
MAX_LOG_CHARACTERS: Final = 32_768
#: ... followed by this marker (``n``: how many characters were cut).
CUT_MARKER: Final = " … [cut: {n} more characters]"
#: SQS refuses a message over 256 KiB. The service copies a rejected body to its dead-letter queue
#: with four message attributes (a reason of at most 256 characters and three ids), which count
#: towards the same limit: keep room for them.
MAX_BODY_BYTES: Final = 262_144 - 2_048
#: Prefix of the derived ids, versioned so that a new derivation can never collide with this one.
EVENT_ID_PREFIX: Final = "flr1"

Body = dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    """One message ready for SQS: its queue (``logs``, ``metrics``, ``status``), body text, id, and
    the FIFO group (the model id) for a status."""

    queue: str
    body: str
    event_id: str
    group_id: Optional[str] = None

    def to_record(self) -> dict[str, Any]:
        return {
            "v": 1,
            "queue": self.queue,
            "body": self.body,
            "event_id": self.event_id,
            "group_id": self.group_id,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Outgoing:
        if record.get("v") != 1 or record.get("queue") not in ("logs", "metrics", "status"):
            raise ValueError("not a spooled message of this client")
        group_id = record.get("group_id")
        return cls(
            queue=str(record["queue"]),
            body=str(record["body"]),
            event_id=str(record["event_id"]),
            group_id=None if group_id is None else str(group_id),
        )


# --- 1. arguments to JSON values -------------------------------------------------------------------


def model_id_text(value: Any) -> str:
    """The model id as the service writes it (lower-case, hyphenated)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise Invalid("model_id", "must be a UUID or a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid("model_id", f"not a valid UUID: {value[:40]!r}") from None


def text(value: Any, field: str) -> str:
    """A string, or an enum member's string value (flip-utils passes ``ModelStatus``, ``FLLogEvent``)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str):
        raise Invalid(field, "must be a string")
    return value


def optional_text(value: Any, field: str) -> Optional[str]:
    return None if value is None else text(value, field)


def integer(value: Any, field: str) -> int:
    """An integer: ``int``, numpy or torch integers, or a float with no fractional part."""
    if isinstance(value, (bool, str, bytes)):
        raise Invalid(field, "must be an integer")
    try:
        return operator.index(value)
    except TypeError:
        pass
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(field, "must be an integer") from None
    if not number.is_integer():
        raise Invalid(field, "must be an integer")
    return int(number)


def optional_integer(value: Any, field: str) -> Optional[int]:
    return None if value is None else integer(value, field)


def number(value: Any, field: str) -> float:
    """A number as ``float``: ``int``, ``float``, numpy or torch scalars (finiteness is a rule)."""
    if isinstance(value, (bool, str, bytes)):
        raise Invalid(field, "must be a number")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid(field, "must be a number") from None


def optional_number(value: Any, field: str) -> Optional[float]:
    return None if value is None else number(value, field)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(field, "must be True or False")
    return value


def _json_scalar(value: Any) -> Any:
    """``json.dumps``'s fallback inside ``details``: numpy/torch scalars and enums as plain values."""
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__index__"):
        return operator.index(value)
    if hasattr(value, "__float__"):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def details_object(value: Any) -> Optional[Body]:
    """``details`` as plain JSON values (string keys; numbers from numpy or torch converted)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise Invalid("details", "must be a mapping")
    try:
        plain = json.loads(json.dumps(value, default=_json_scalar, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise Invalid("details", f"not JSON: {error}") from None
    return plain  # type: ignore[no-any-return]


# --- 2. the log cut --------------------------------------------------------------------------------


def cut_log(log: str) -> str:
    """``log`` as the service stores it: at most :data:`MAX_LOG_CHARACTERS` characters, the marker
    included (so the service keeps the text as sent rather than cutting it again)."""
    if len(log) <= MAX_LOG_CHARACTERS:
        return log
    keep = MAX_LOG_CHARACTERS
    while True:  # the marker's length depends on the number it shows
        marker = CUT_MARKER.format(n=len(log) - keep)
        if keep + len(marker) <= MAX_LOG_CHARACTERS:
            return log[:keep] + marker
        keep = MAX_LOG_CHARACTERS - len(marker)


# --- 3. what the database or SQS would refuse ------------------------------------------------------


def _unstorable(value: Any, field: str) -> None:
    """Text PostgreSQL cannot store (NUL, a lone surrogate), or a number JSON cannot carry."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid(field, "contains a NUL character, which the database cannot store")
        if any(0xD800 <= ord(character) <= 0xDFFF for character in value):
            raise Invalid(field, "contains a lone surrogate (not valid Unicode)")
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid(field, "must be a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _unstorable(key, field)
            _unstorable(item, field)
    elif isinstance(value, list):
        for item in value:
            _unstorable(item, field)


def encode(body: Mapping[str, Any]) -> str:
    """The body as SQS message text: UTF-8 JSON, with the two characters SQS refuses escaped.

    SQS accepts tab, LF, CR and U+0020 to U+10FFFF except surrogates, U+FFFE and U+FFFF. ``json``
    already escapes the control characters; U+FFFE and U+FFFF can only occur inside strings, where
    their escapes mean the same text. Non-ASCII text stays UTF-8 (an escape costs up to three times
    the bytes, and a cut log must fit in one message).
    """
    text_ = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text_.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


# --- 4. the event id -------------------------------------------------------------------------------


def derive_event_id(queue: str, body: Mapping[str, Any], run_id: str) -> str:
    """``flr1-<queue>-<40 hex>``: SHA-256 of the run and the body (keys sorted), so the same call in
    the same run gives the same id in any process, on any Python version. Short and plain enough
    to be a FIFO deduplication id (at most 128 characters of ``[A-Za-z0-9-]``)."""
    canonical = json.dumps(
        {"run_id": run_id, "queue": queue, "body": dict(body)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return f"{EVENT_ID_PREFIX}-{queue}-{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


def outgoing(queue: str, body: Body, run_id: str) -> Outgoing:
    """Check ``body`` and give it its event id; raises :class:`Invalid` when it must not be sent."""
    invalid = broken_rule(queue, body)
    if invalid is not None:
        raise invalid
    for field, value in body.items():
        _unstorable(value, field)
    event_id = derive_event_id(queue, body, run_id)
    message = encode({**body, "event_id": event_id})
    size = len(message.encode())
    if size > MAX_BODY_BYTES:
        raise Invalid("body", f"{size} bytes, over the {MAX_BODY_BYTES} an SQS message can take here")
    group_id = body["model_id"] if queue == "status" else None
    return Outgoing(queue=queue, body=message, event_id=event_id, group_id=group_id)


# --- the bodies of the four calls ------------------------------------------------------------------


def status_body(model_id: Any, status: Any) -> Body:
    return {"model_id": model_id_text(model_id), "status": text(status, "status").strip().upper()}


def metric_body(
    model_id: Any,
    fl_client_name: Any,
    label: Any,
    result: Any,
    global_round: Any,
    x_value: Any = None,
    x_label: Any = None,
) -> Body:
    body: Body = {
        "model_id": model_id_text(model_id),
        "fl_client_name": text(fl_client_name, "fl_client_name"),
        "global_round": integer(global_round, "global_round"),
        "label": text(label, "label"),
        "result": number(result, "result"),
    }
    if x_label is not None:
        body["x_label"] = text(x_label, "x_label")
    if x_value is not None:
        body["x_value"] = number(x_value, "x_value")
    return body


def event_body(
    model_id: Any,
    event_type: Any,
    global_round: Any = None,
    details: Any = None,
    fl_client_name: Any = None,
    success: Any = True,
) -> Body:
    body: Body = {"model_id": model_id_text(model_id)}
    client = optional_text(fl_client_name, "fl_client_name")
    if client is not None:
        body["fl_client_name"] = client
    body["event_type"] = text(event_type, "event_type")
    round_ = optional_integer(global_round, "global_round")
    if round_ is not None:
        body["global_round"] = round_
    plain = details_object(details)
    if plain is not None:
        body["details"] = plain
    body["success"] = flag(success, "success")
    return body


def handled_exception_body(model_id: Any, fl_client_name: Any, log: Any) -> Body:
    body: Body = {"model_id": model_id_text(model_id)}
    client = optional_text(fl_client_name, "fl_client_name")
    if client is not None:
        body["fl_client_name"] = client
    body["log"] = cut_log(text(log, "log"))
    body["success"] = False
    return body
