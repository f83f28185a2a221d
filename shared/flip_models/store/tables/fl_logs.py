"""The ``fl_logs`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, created_at, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class FLLogs(Base):
    """A log line or typed event of a model. ``message_id`` is the idempotency key of the FL message
    that wrote it, unique per model; ``message_digest`` fingerprints that message's body, so that a
    key reused with another body is told apart from a redelivery (SPEC §5)."""

    __tablename__ = "fl_logs"
    __table_args__ = (
        Index("ix_fl_logs_model_id_log_date_id", "model_id", "log_date", "id"),
        UniqueConstraint("model_id", "message_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    log_date: Mapped[datetime] = created_at()
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    trust: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Trust.id))
    fl_client_name: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str | None] = mapped_column(Text)
    global_round: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    message_id: Mapped[str | None] = mapped_column(Text)
    message_digest: Mapped[str | None] = mapped_column(Text)
