"""The ``user_profile`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp


class UserProfile(Base):
    """A person's display name (``user_id`` is the Cognito ``sub``)."""

    __tablename__ = "user_profile"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    organisation: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp()
