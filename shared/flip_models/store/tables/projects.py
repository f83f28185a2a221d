"""The ``projects`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ProjectStatus
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("flip_models_projects_owner_id", "owner_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False)
    description: Mapped[str] = mapped_column(String, nullable=False, default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    creation_timestamp: Mapped[datetime] = timestamp()
    status: Mapped[ProjectStatus] = mapped_column(
        flip_enum(ProjectStatus, "projectstatus"), nullable=False, default=ProjectStatus.UNSTAGED
    )
    dicom_to_nifti: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    has_imaging: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )
