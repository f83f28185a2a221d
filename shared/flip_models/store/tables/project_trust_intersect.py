"""The ``project_trust_intersect`` table (FLIP's, SPEC §2): a trust's decision on a project."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import DecisionMaker, TrustApprovalStatus
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk
from flip_models.store.tables.projects import Project
from flip_models.store.tables.trust import Trust


class ProjectTrustIntersect(Base):
    """A trust approved a project when ``status`` is ``APPROVED`` (FLIP dropped the ``approved`` flag)."""

    __tablename__ = "project_trust_intersect"

    id: Mapped[uuid.UUID] = uuid_pk()
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Project.id), index=True)
    trust_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Trust.id), index=True)
    decided_at: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
    status: Mapped[TrustApprovalStatus] = mapped_column(
        flip_enum(TrustApprovalStatus, "trustapprovalstatus"),
        nullable=False,
        default=TrustApprovalStatus.PENDING,
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_as: Mapped[DecisionMaker | None] = mapped_column(flip_enum(DecisionMaker, "decisionmaker"))
