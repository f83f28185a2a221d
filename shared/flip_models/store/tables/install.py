"""The service's ``model_service_install`` table: how its first migration found the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.store.tables.base import Base, timestamp


class ModelServiceInstall(Base):
    """One row. ``flip_schema_created``: the database was empty and the service created FLIP's schema
    (its downgrade to nothing removes it again); False: FLIP's schema was there (at ``flip_revision``),
    and the service never removes any of it."""

    __tablename__ = "model_service_install"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    flip_schema_created: Mapped[bool] = mapped_column(Boolean, nullable=False)
    flip_revision: Mapped[str | None] = mapped_column(String)
    installed_at: Mapped[datetime] = timestamp()
