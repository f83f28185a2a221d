"""The ``fl_nets`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import FLBackend
from flip_models.store.tables.base import Base, text_enum, uuid_pk


class FLNets(Base):
    __tablename__ = "fl_nets"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    endpoint: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    fl_backend: Mapped[FLBackend] = mapped_column(text_enum(FLBackend, "fl_backend"), nullable=False)
