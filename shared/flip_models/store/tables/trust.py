"""The ``trust`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, uuid_pk


class Trust(Base):
    __tablename__ = "trust"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    code: Mapped[str | None] = mapped_column(Text)
