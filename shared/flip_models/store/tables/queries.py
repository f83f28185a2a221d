"""The ``queries`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp, uuid_pk
from flip_models.store.tables.projects import Project


class Query(Base):
    """A project's cohort query; the latest by ``created`` is the project's query."""

    __tablename__ = "queries"
    __table_args__ = (Index("flip_models_queries_project_id_created", "project_id", "created"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False)
    query: Mapped[str] = mapped_column(String, nullable=False)
    created: Mapped[datetime] = timestamp()
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Project.id), index=True)
    queried_trust_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), nullable=False, default=list)
