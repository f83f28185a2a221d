"""The ``fl_job`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import JobStatus
from flip_models.store.tables.base import Base, created_at, text_enum, uuid_pk
from flip_models.store.tables.model import Model


class FLJob(Base):
    __tablename__ = "fl_job"
    __table_args__ = (
        Index("ix_fl_job_model_id_created", "model_id", "created"),
        # The queue: QUEUED jobs in order (queue positions are ranks along this index).
        Index("ix_fl_job_queued", "created", "id", postgresql_where=text("status = 'QUEUED'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    status: Mapped[JobStatus] = mapped_column(
        text_enum(JobStatus, "job_status"),
        nullable=False,
        default=JobStatus.QUEUED,
        server_default=JobStatus.QUEUED.name,
    )
    created: Mapped[datetime] = created_at()
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
