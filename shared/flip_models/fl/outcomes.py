"""The vocabulary of one SQS batch of FL messages, from parsing to settling: items and outcomes.

Every record of a batch ends with exactly one outcome: *applied* (now, or a ``duplicate`` of an
earlier delivery), *rejected* (dead-lettered with its reason and acknowledged) or *retry* (reported
in ``batchItemFailures`` so SQS delivers it again). :func:`parse_records` gives the first outcomes:
a body that breaks a rule is rejected; the others become items for ``rows`` or ``statuses``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from flip_models.fl.messages import (
    FLLogMessage,
    FLMessage,
    FLMetricMessage,
    FLRecord,
    FLStatusMessage,
    rejection_reason,
)

M = TypeVar("M", FLLogMessage, FLMetricMessage, FLStatusMessage)


class RejectionKind(StrEnum):
    """Why a message went to the dead-letter queue (the metric dimension ``reason``)."""

    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_MODEL = "unknown_model"
    UNKNOWN_FL_CLIENT = "unknown_fl_client"
    TRUST_NOT_IN_MODEL = "trust_not_in_model"
    EVENT_ID_REUSED = "event_id_reused"
    DATABASE_REJECTED = "database_rejected"


#: The reason of a message whose key was applied before with a different body (SPEC §5).
REUSED_KEY_REASON = "event_id: reused with a different body"


@dataclass(frozen=True)
class Applied:
    """Written now, or already written by an earlier delivery (``duplicate``)."""

    duplicate: bool = False


@dataclass(frozen=True)
class Rejected:
    """A permanent failure: dead-lettered with ``reason`` and acknowledged."""

    reason: str
    kind: RejectionKind


@dataclass(frozen=True)
class Retry:
    """A transient failure: reported in ``batchItemFailures``."""

    reason: str


Outcome = Applied | Rejected | Retry


@dataclass(frozen=True)
class Item(Generic[M]):
    """A valid message of the batch with what its application needs from the SQS record."""

    message_id: str
    message: M
    sent_at: datetime

    @property
    def key(self) -> str:
        """The idempotency key within the message's model: ``event_id`` when given, else the SQS
        message id (stored as the row's ``message_id``)."""
        return self.message.event_id or self.message_id

    @property
    def identity(self) -> tuple[uuid.UUID, str]:
        """What makes two messages the same one: their model and key (SPEC §5)."""
        return self.message.model_id, self.key

    @cached_property
    def digest(self) -> str:
        """The message's body as a hash (:meth:`flip_models.fl.messages._Message.digest`), once."""
        return self.message.digest()


def key_applied_before(item: Item[Any], applied_digest: str | None) -> Outcome:
    """The outcome of a message whose key was applied already, by ``applied_digest``: the same body
    is a redelivery (acknowledged, no effect); another body reuses the key and is rejected. A row
    without a digest (written before digests were kept, or by another writer) cannot tell: it takes
    any body as a redelivery."""
    if applied_digest is None or applied_digest == item.digest:
        return Applied(duplicate=True)
    return Rejected(REUSED_KEY_REASON, RejectionKind.EVENT_ID_REUSED)


def parse_records(
    records: Iterable[Mapping[str, Any]], record_model: type[FLRecord]
) -> tuple[list[Item[Any]], dict[str, Outcome]]:
    """Valid items in batch order, and a rejection for every record whose body breaks a rule."""
    items: list[Item[Any]] = []
    rejected: dict[str, Outcome] = {}
    for raw in records:
        try:
            record = record_model.model_validate(raw)
        except ValidationError as error:
            rejected[str(raw.get("messageId"))] = Rejected(
                rejection_reason(error), RejectionKind.INVALID_MESSAGE
            )
            continue
        message: FLMessage = record.body
        items.append(
            Item(
                message_id=record.messageId,
                message=message,
                sent_at=record.attributes.SentTimestamp.astimezone(UTC),
            )
        )
    return items, rejected
