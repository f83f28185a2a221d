"""The ``fl_kit_slot`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp
from flip_models.store.tables.trust import Trust


class FLKitSlot(Base):
    """An FL kit slot (``Trust_2``): the name FL servers report, assigned to one trust at a time."""

    __tablename__ = "fl_kit_slot"

    slot_name: Mapped[str] = mapped_column(String, primary_key=True)
    slot_number: Mapped[int] = mapped_column(Integer, nullable=False)
    assigned_to_trust_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Trust.id), index=True)
    assigned_at: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
