"""The ``fl_scheduler`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import NetStatus
from flip_models.store.tables.base import Base, flip_enum, uuid_pk
from flip_models.store.tables.fl_job import FLJob
from flip_models.store.tables.fl_nets import FLNets


class FLScheduler(Base):
    __tablename__ = "fl_scheduler"
    __table_args__ = (Index("flip_models_fl_scheduler_job_id", "job_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    net_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(FLNets.id), nullable=False)
    status: Mapped[NetStatus] = mapped_column(
        flip_enum(NetStatus, "netstatus"), nullable=False, default=NetStatus.AVAILABLE
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(FLJob.id))
