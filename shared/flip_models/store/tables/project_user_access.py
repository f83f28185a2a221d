"""The ``project_user_access`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, uuid_pk
from flip_models.store.tables.projects import Project


class ProjectUserAccess(Base):
    __tablename__ = "project_user_access"
    __table_args__ = (Index("flip_models_project_user_access_user_id", "user_id", "project_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Project.id))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
