"""The service's ``fl_status_message`` table (SPEC §2, the service's own objects)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ModelStatus
from flip_models.store.tables.base import Base, text_enum, timestamp
from flip_models.store.tables.model import Model


class ReceivedStatusMessage(Base):
    """An ``fl-status`` message already applied, by its model and idempotency key (``event_id`` or
    SQS message id). Written in the same transaction as the transition, so a redelivered message
    changes nothing; ``status`` tells a reused key with another body apart from a redelivery.
    """

    __tablename__ = "fl_status_message"

    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id, ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[ModelStatus] = mapped_column(text_enum(ModelStatus, "requested_status"), nullable=False)
    result_status: Mapped[ModelStatus | None] = mapped_column(text_enum(ModelStatus, "result_status"))
    received_at: Mapped[datetime] = timestamp()
