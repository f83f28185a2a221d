"""The ``fl_job`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import JobStatus
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk
from flip_models.store.tables.model import Model


class FLJob(Base):
    __tablename__ = "fl_job"
    __table_args__ = (
        Index("flip_models_fl_job_model_id_created", "model_id", "created"),
        # The queue: QUEUED jobs in order (queue positions are ranks along this index).
        Index("flip_models_fl_job_queued", "created", "id", postgresql_where=text("status = 'QUEUED'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    status: Mapped[JobStatus] = mapped_column(
        flip_enum(JobStatus, "jobstatus"), nullable=False, default=JobStatus.QUEUED
    )
    created: Mapped[datetime] = timestamp()
    started: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
    completed: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
    fl_backend_job_id: Mapped[str | None] = mapped_column(String)
    num_gpus: Mapped[int | None] = mapped_column(Integer)
    mem_per_gpu_gib: Mapped[int | None] = mapped_column(Integer)
