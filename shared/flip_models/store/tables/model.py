"""The ``model`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ModelStatus
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk
from flip_models.store.tables.projects import Project


class Model(Base):
    """A model. ``project_id`` may be NULL in FLIP's schema: every read tolerates a model without one."""

    __tablename__ = "model"
    __table_args__ = (
        Index("flip_models_model_creation_timestamp_id", "creation_timestamp", "id"),
        Index("flip_models_model_project_id", "project_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False)
    description: Mapped[str] = mapped_column(String, nullable=False, default="")
    status: Mapped[ModelStatus] = mapped_column(
        flip_enum(ModelStatus, "modelstatus"), nullable=False, default=ModelStatus.PENDING
    )
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Project.id))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    creation_timestamp: Mapped[datetime] = timestamp()
