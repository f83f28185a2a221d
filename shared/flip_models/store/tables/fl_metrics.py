"""The ``fl_metrics`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, created_at, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class FLMetrics(Base):
    """One value of one metric; ``message_id`` and ``message_digest`` as in :class:`FLLogs`."""

    __tablename__ = "fl_metrics"
    __table_args__ = (
        Index("ix_fl_metrics_model_id_timestamp", "model_id", "timestamp"),
        UniqueConstraint("model_id", "message_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    trust: Mapped[uuid.UUID] = mapped_column(ForeignKey(Trust.id), nullable=False)
    fl_client_name: Mapped[str] = mapped_column(Text, nullable=False)
    global_round: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[float] = mapped_column(Double, nullable=False)
    x_label: Mapped[str] = mapped_column(
        Text, nullable=False, default="Global Round", server_default="Global Round"
    )
    x_value: Mapped[float] = mapped_column(Double, nullable=False)
    timestamp: Mapped[datetime] = created_at()
    message_id: Mapped[str | None] = mapped_column(Text)
    message_digest: Mapped[str | None] = mapped_column(Text)
