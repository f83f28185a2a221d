"""The ``fl_metrics`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class FLMetrics(Base):
    """One value of one metric; the FL message that wrote it is recorded in ``fl_metric_message``."""

    __tablename__ = "fl_metrics"
    __table_args__ = (Index("flip_models_fl_metrics_model_id_timestamp", "model_id", "timestamp"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    trust: Mapped[uuid.UUID] = mapped_column(ForeignKey(Trust.id), nullable=False)
    fl_client_name: Mapped[str] = mapped_column(String, nullable=False)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    global_round: Mapped[int] = mapped_column(Integer, nullable=False)
    timestamp: Mapped[datetime | None] = timestamp(nullable=True)
    label: Mapped[str] = mapped_column(String, nullable=False)
    result: Mapped[float] = mapped_column(Double, nullable=False)
    x_label: Mapped[str] = mapped_column(
        String, nullable=False, default="Global Round", server_default="Global Round"
    )
    x_value: Mapped[float] = mapped_column(Double, nullable=False)
