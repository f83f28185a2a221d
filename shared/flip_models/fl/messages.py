"""The bodies of the FL servers' SQS messages (SPEC §5) and the per-queue SQS record models.

Validation here is the permanent-failure half of SPEC §5 that needs no database: a record whose
body breaks a rule is sent to the dead-letter queue with :func:`rejection_reason` of the error.
Unknown extra fields are accepted and ignored, so that older and newer FL server images keep working.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from typing import Annotated, Any, Final

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Json,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from flip_models.enums import FLLogEvent, ModelStatus

#: Largest value of a PostgreSQL ``integer`` column (``global_round``).
MAX_ROUND: Final = 2_147_483_647
MIN_INT4: Final = -2_147_483_648
#: ``details`` may take at most this many bytes as JSON.
MAX_DETAILS_BYTES: Final = 8192
#: Event types that carry no round (FLIP#1390).
ROUND_LESS_EVENTS: Final = frozenset({FLLogEvent.JOB_WAITING_FOR_RESOURCES.value})
#: Event types only the hub may write.
HUB_RESERVED_EVENTS: Final = frozenset({FLLogEvent.QUEUE_POSITION.value})
#: Default x axis of a metric.
DEFAULT_X_LABEL: Final = "Global Round"
#: The rejection reason travels as an SQS message attribute: keep it short.
MAX_REASON_LENGTH: Final = 256
#: An ``event_id`` is a unique-index key: longer ones are refused rather than failing in the database.
MAX_EVENT_ID_LENGTH: Final = 512
#: A free-text ``log`` longer than this is stored cut, with :data:`LOG_CUT_SUFFIX` (SPEC §5).
MAX_LOG_CHARACTERS: Final = 32_768
LOG_CUT_SUFFIX: Final = " … [cut: {rest} more characters]"
_CUT_TAIL: Final = re.compile(r" … \[cut: [1-9][0-9]* more characters\]")


def _rule(field: str, message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``field: message`` (the rejection reason)."""
    return PydanticCustomError("fl_message_rule", "{reason}", {"reason": f"{field}: {message}"})


class _Message(BaseModel):
    """Common fields. ``event_id`` (optional) is the sender's idempotency key; blank means absent."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model_id: uuid.UUID
    event_id: Annotated[str, Field(max_length=MAX_EVENT_ID_LENGTH)] | None = None

    @field_validator("event_id", mode="after")
    @classmethod
    def _blank_event_id_is_absent(cls, value: str | None) -> str | None:
        return value if value is not None and value.strip() else None

    def digest(self) -> str:
        """What the sender said, as a stable hash: SHA-256 (hex) of the validated message as canonical
        JSON (every field of its model, keys sorted, no spaces, non-ASCII escaped).

        Stored with the row (``message_digest``) so that a key seen again can be told apart: the
        same digest is a redelivery, another one a reused ``event_id`` (SPEC §5). Every field the
        sender controls is in it, as validated: a log's text after the cut, a metric's defaults
        applied, a blank ``event_id`` as absent. Not in it: the SQS transport (message id, sent
        time, attributes), the body's formatting and key order, and unknown fields, which
        validation ignores.
        """
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class FLLogMessage(_Message):
    """``fl-logs``: a free-text line (``log``) or a typed event (``event_type``) from a client or the hub."""

    fl_client_name: str | None = None
    log: str | None = None
    event_type: str | None = None
    global_round: int | None = None
    details: dict[str, Any] | None = None
    success: bool = True

    @field_validator("log", mode="after")
    @classmethod
    def _cut_long_text(cls, value: str | None) -> str | None:
        """A text over :data:`MAX_LOG_CHARACTERS` is cut, never refused: a client's traceback must
        still reach the user, and a row must stay small. Cut here, so that the stored row and the
        message's digest describe the same text."""
        if (
            value is None
            or len(value) <= MAX_LOG_CHARACTERS
            or _CUT_TAIL.fullmatch(value[MAX_LOG_CHARACTERS:])
        ):
            return value  # short, or cut already (the FL ingress sends validated messages on)
        rest = len(value) - MAX_LOG_CHARACTERS
        return value[:MAX_LOG_CHARACTERS] + LOG_CUT_SUFFIX.format(rest=rest)

    @model_validator(mode="after")
    def _spec_rules(self) -> FLLogMessage:
        if (self.log is None) == (self.event_type is None):
            raise _rule("log, event_type", "exactly one of the two must be set")
        if self.event_type is not None:
            self._check_event()
        elif self.global_round is not None and not MIN_INT4 <= self.global_round <= MAX_ROUND:
            raise _rule("global_round", f"must be between {MIN_INT4} and {MAX_ROUND}")
        if self.details is not None:
            size = len(json.dumps(self.details).encode())
            if size > MAX_DETAILS_BYTES:
                raise _rule("details", f"{size} bytes as JSON, at most {MAX_DETAILS_BYTES} allowed")
        return self

    def _check_event(self) -> None:
        assert self.event_type is not None
        name = self.event_type.strip()
        if not name:
            raise _rule("event_type", "must not be blank")
        if len(self.event_type) > 64:
            raise _rule("event_type", "at most 64 characters")
        if name in HUB_RESERVED_EVENTS:
            raise _rule("event_type", f"{name} is reserved for the hub")
        if self.global_round is None:
            if name not in ROUND_LESS_EVENTS:
                raise _rule("global_round", "required when event_type is set")
        elif not 1 <= self.global_round <= MAX_ROUND:
            raise _rule("global_round", f"must be between 1 and {MAX_ROUND} for an event")


_Label = Annotated[str, Field(min_length=1, max_length=64)]


class FLMetricMessage(_Message):
    """``fl-metrics``: one value of one metric for one client and round (rounds may be 0-based)."""

    fl_client_name: str
    global_round: Annotated[int, Field(ge=0, le=MAX_ROUND)]
    label: _Label
    result: Annotated[float, Field(allow_inf_nan=False)]
    x_label: _Label = DEFAULT_X_LABEL
    x_value: Annotated[float, Field(allow_inf_nan=False)]

    @model_validator(mode="before")
    @classmethod
    def _defaults_for_null(cls, data: Any) -> Any:
        """``x_value`` defaults to ``global_round`` and ``x_label`` to 'Global Round' (also when null)."""
        if isinstance(data, dict):
            data = dict(data)
            if data.get("x_value") is None:
                data["x_value"] = data.get("global_round")
            if data.get("x_label") is None:
                data["x_label"] = DEFAULT_X_LABEL
        return data

    @field_validator("x_value", mode="after")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):  # e.g. a global_round too large for a float
            raise _rule("x_value", "must be a finite number")
        return value


class FLStatusMessage(_Message):
    """``fl-status.fifo``: a model status from the FL server (never PENDING; TRAINING_STARTED = RUNNING)."""

    status: ModelStatus

    @field_validator("status", mode="before")
    @classmethod
    def _parse_status(cls, value: Any) -> ModelStatus:
        if not isinstance(value, str):
            raise _rule("status", "must be a string")
        try:
            status = ModelStatus(value.strip().upper())
        except ValueError:
            raise _rule("status", f"unknown status {value[:40]!r}") from None
        if status == ModelStatus.PENDING:
            raise _rule("status", "PENDING is never set by an FL server")
        return status


class FLLogRecord(SqsRecordModel):
    body: Json[FLLogMessage]


class FLMetricRecord(SqsRecordModel):
    body: Json[FLMetricMessage]


class FLStatusRecord(SqsRecordModel):
    body: Json[FLStatusMessage]


FLMessage = FLLogMessage | FLMetricMessage | FLStatusMessage
FLRecord = FLLogRecord | FLMetricRecord | FLStatusRecord


def rejection_reason(error: ValidationError) -> str:
    """The first error as ``field: rule`` (body fields without the ``body.`` prefix), short, no values."""
    first = error.errors(include_url=False, include_input=False)[0]
    location = [str(part) for part in first["loc"]]
    if location[:1] == ["body"]:
        location = location[1:]
    message = first["msg"]
    if first["type"] == "fl_message_rule":
        return truncate(message)
    if first["type"] == "json_invalid":
        return truncate(f"body: not valid JSON ({first['ctx'].get('error', 'parse error')})")
    if first["type"] in {"model_type", "model_attributes_type", "dict_type"} and not location:
        return "body: must be a JSON object"
    field = ".".join(location) or "body"
    return truncate(f"{field}: {message}")


def truncate(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
