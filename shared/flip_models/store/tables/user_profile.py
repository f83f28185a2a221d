"""The ``user_profile`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base


class UserProfile(Base):
    """A person's display name (``user_id`` is the Cognito ``sub``)."""

    __tablename__ = "user_profile"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    organisation: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
