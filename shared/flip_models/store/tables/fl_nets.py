"""The ``fl_nets`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import FLBackend
from flip_models.store.tables.base import Base, flip_enum, uuid_pk


class FLNets(Base):
    __tablename__ = "fl_nets"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False, unique=True)
    endpoint: Mapped[str] = mapped_column(String, nullable=False, unique=True)
    fl_backend: Mapped[FLBackend] = mapped_column(flip_enum(FLBackend, "flbackend"), nullable=False)
