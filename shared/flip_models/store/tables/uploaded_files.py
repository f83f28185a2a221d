"""The ``uploaded_files`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import Double, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, uuid_pk
from flip_models.store.tables.model import Model


class UploadedFile(Base):
    """A file a researcher uploaded for a model (written by FLIP's file service)."""

    __tablename__ = "uploaded_files"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[float | None] = mapped_column(Double)
    type: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(Text)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False, index=True)
