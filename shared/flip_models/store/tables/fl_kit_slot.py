"""The ``fl_kit_slot`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base
from flip_models.store.tables.trust import Trust


class FLKitSlot(Base):
    """An FL kit slot (``Trust_2``): the name FL servers report, assigned to one trust at a time."""

    __tablename__ = "fl_kit_slot"

    slot_name: Mapped[str] = mapped_column(Text, primary_key=True)
    slot_number: Mapped[int] = mapped_column(Integer, nullable=False)
    assigned_to_trust_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(Trust.id, ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
