"""The ``model_trust_intersect`` table (FLIP's, SPEC §2)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import TrustIntersectStatus
from flip_models.store.tables.base import Base, flip_enum, uuid_pk
from flip_models.store.tables.model import Model
from flip_models.store.tables.trust import Trust


class ModelTrustIntersect(Base):
    __tablename__ = "model_trust_intersect"
    __table_args__ = (Index("flip_models_model_trust_intersect_model_id_trust_id", "model_id", "trust_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    status: Mapped[TrustIntersectStatus] = mapped_column(
        flip_enum(TrustIntersectStatus, "trustintersectstatus"),
        nullable=False,
        default=TrustIntersectStatus.PENDING,
    )
    model_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Model.id))
    trust_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Trust.id))
    fl_client_endpoint: Mapped[str | None] = mapped_column(String)
