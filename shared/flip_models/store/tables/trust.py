"""The ``trust`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp, uuid_pk


class Trust(Base):
    __tablename__ = "trust"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String, nullable=False)
    last_heartbeat: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
    code: Mapped[str | None] = mapped_column(String)
    region: Mapped[str | None] = mapped_column(String)
    api_key_hash: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = timestamp()
    services_health: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    services_health_at: Mapped[datetime | None] = timestamp(nullable=True, stamped=False)
