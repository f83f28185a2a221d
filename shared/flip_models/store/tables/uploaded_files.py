"""The ``uploaded_files`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Double, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import FileUploadStatus
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk
from flip_models.store.tables.model import Model


class UploadedFile(Base):
    """A file a researcher uploaded for a model (written by FLIP's file service)."""

    __tablename__ = "uploaded_files"
    __table_args__ = (Index("flip_models_uploaded_files_model_id", "model_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[FileUploadStatus] = mapped_column(
        flip_enum(FileUploadStatus, "fileuploadstatus"), nullable=False
    )
    size: Mapped[float] = mapped_column(Double, nullable=False)
    type: Mapped[str] = mapped_column(String, nullable=False)
    tag: Mapped[str | None] = mapped_column(String)
    model_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Model.id))
    updated_at: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
    bandit_findings: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(JSONB(none_as_null=True))
