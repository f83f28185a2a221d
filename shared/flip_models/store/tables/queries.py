"""The ``queries`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, created_at, uuid_pk
from flip_models.store.tables.projects import Project


class Query(Base):
    """A project's cohort query; the latest by ``created`` is the project's query."""

    __tablename__ = "queries"
    __table_args__ = (Index("ix_queries_project_id_created", "project_id", "created"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    created: Mapped[datetime] = created_at()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Project.id), nullable=False)
