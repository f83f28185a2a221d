"""The ``fl_logs`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class FLLogs(Base):
    """A log line or typed event of a model. ``log_date`` may be NULL (other writers): every read
    tolerates it. The FL message that wrote a row is recorded in the service's ``fl_log_message``."""

    __tablename__ = "fl_logs"
    __table_args__ = (
        # NULLs first: a row without a date is the oldest of the feed (core/logs.py).
        Index(
            "flip_models_fl_logs_model_id_log_date_id",
            "model_id",
            column("log_date").asc().nulls_first(),
            "id",
        ),
        # The progress card's (fm0003, core/progress.py).
        Index(
            "flip_models_fl_logs_round_started",
            "model_id",
            "log_date",
            "id",
            postgresql_where=text("event_type = 'ROUND_STARTED'"),
        ),
        Index(
            "flip_models_fl_logs_round_started_round",
            "model_id",
            "global_round",
            "log_date",
            postgresql_where=text("event_type = 'ROUND_STARTED'"),
        ),
        Index("flip_models_fl_logs_model_id_trust_log_date", "model_id", "trust", "log_date"),
        Index(
            "flip_models_fl_logs_results",
            "model_id",
            "trust",
            "global_round",
            "log_date",
            postgresql_where=text("event_type = 'CLIENT_RESULT_RECEIVED' AND success"),
        ),
        Index(
            "flip_models_fl_logs_failures",
            "model_id",
            "trust",
            "log_date",
            postgresql_where=text("NOT success"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    log_date: Mapped[datetime | None] = timestamp(nullable=True)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    trust: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Trust.id))
    fl_client_name: Mapped[str | None] = mapped_column(String)
    log: Mapped[str | None] = mapped_column(String)
    event_type: Mapped[str | None] = mapped_column(String)
    global_round: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
