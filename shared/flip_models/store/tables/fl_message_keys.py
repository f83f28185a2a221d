"""The service's ``fl_log_message`` and ``fl_metric_message`` tables: the FL message behind each row
it wrote to FLIP's ``fl_logs`` and ``fl_metrics`` (SPEC §2, §5).

FLIP's tables cannot take the service's columns, so the idempotency key of a message (its model and
``event_id``, else the SQS message id) lives here, unique per model, with ``message_digest`` (a
SHA-256 of the validated body: a key reused with another body is told apart from a redelivery) and
the id of the row the message wrote. Both are written by the same statement as the row
(:mod:`flip_models.fl.attribution`), so a key never exists without its row, nor a row of an FL
message without its key. A row that FLIP's own code writes has no key here.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base
from flip_models.store.tables.model import Model


class _MessageKey:
    """The columns of a key table (declared on each: a mixin of mapped columns)."""

    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id, ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    message_digest: Mapped[str | None] = mapped_column(Text)


class FLLogMessage(_MessageKey, Base):
    __tablename__ = "fl_log_message"


class FLMetricMessage(_MessageKey, Base):
    __tablename__ = "fl_metric_message"
