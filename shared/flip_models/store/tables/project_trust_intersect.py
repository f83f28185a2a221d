"""The ``project_trust_intersect`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, uuid_pk
from flip_models.store.tables.projects import Project
from flip_models.store.tables.trust import Trust


class ProjectTrustIntersect(Base):
    __tablename__ = "project_trust_intersect"

    id: Mapped[uuid.UUID] = uuid_pk()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Project.id), nullable=False, index=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Trust.id), nullable=False)
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
