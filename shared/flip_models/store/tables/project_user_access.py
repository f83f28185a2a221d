"""The ``project_user_access`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, uuid_pk
from flip_models.store.tables.projects import Project


class ProjectUserAccess(Base):
    __tablename__ = "project_user_access"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Project.id), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
