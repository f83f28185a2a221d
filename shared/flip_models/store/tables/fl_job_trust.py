"""The ``fl_job_trust`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base
from flip_models.store.tables.fl_job import FLJob
from flip_models.store.tables.trust import Trust


class FLJobTrust(Base):
    """The roster of a run: the trusts an ``fl_job`` was dispatched to."""

    __tablename__ = "fl_job_trust"

    fl_job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(FLJob.id), primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Trust.id), primary_key=True)
