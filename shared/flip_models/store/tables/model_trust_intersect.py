"""The ``model_trust_intersect`` table (SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import TrustIntersectStatus
from flip_models.store.tables.base import Base, text_enum, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class ModelTrustIntersect(Base):
    __tablename__ = "model_trust_intersect"
    __table_args__ = (UniqueConstraint("model_id", "trust_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Trust.id), nullable=False)
    status: Mapped[TrustIntersectStatus] = mapped_column(
        text_enum(TrustIntersectStatus, "trust_intersect_status"),
        nullable=False,
        default=TrustIntersectStatus.PENDING,
        server_default=TrustIntersectStatus.PENDING.name,
    )
    fl_client_endpoint: Mapped[str | None] = mapped_column(Text)
