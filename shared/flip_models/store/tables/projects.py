"""The ``projects`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ProjectStatus
from flip_models.store.tables.base import Base, created_at, text_enum, uuid_pk


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, server_default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    status: Mapped[ProjectStatus] = mapped_column(
        text_enum(ProjectStatus, "project_status"),
        nullable=False,
        default=ProjectStatus.UNSTAGED,
        server_default=ProjectStatus.UNSTAGED.name,
    )
    creation_timestamp: Mapped[datetime] = created_at()
