"""The ``model`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ModelStatus
from flip_models.store.tables.base import Base, created_at, text_enum, uuid_pk
from flip_models.store.tables.projects import Project


class Model(Base):
    __tablename__ = "model"
    __table_args__ = (Index("ix_model_creation_timestamp_id", "creation_timestamp", "id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(75), nullable=False)
    description: Mapped[str] = mapped_column(String(250), nullable=False, default="", server_default="")
    status: Mapped[ModelStatus] = mapped_column(
        text_enum(ModelStatus, "model_status"),
        nullable=False,
        default=ModelStatus.PENDING,
        server_default=ModelStatus.PENDING.name,
    )
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Project.id), nullable=False, index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    creation_timestamp: Mapped[datetime] = created_at()
