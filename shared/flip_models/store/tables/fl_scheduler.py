"""The ``fl_scheduler`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import NetStatus
from flip_models.store.tables.base import Base, text_enum, uuid_pk
from flip_models.store.tables.fl_job import FLJob
from flip_models.store.tables.fl_nets import FLNets


class FLScheduler(Base):
    __tablename__ = "fl_scheduler"

    id: Mapped[uuid.UUID] = uuid_pk()
    net_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(FLNets.id), nullable=False)
    status: Mapped[NetStatus] = mapped_column(
        text_enum(NetStatus, "net_status"),
        nullable=False,
        default=NetStatus.AVAILABLE,
        server_default=NetStatus.AVAILABLE.name,
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(FLJob.id), index=True)
