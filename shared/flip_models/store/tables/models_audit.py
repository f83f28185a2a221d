"""The ``models_audit`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ModelAuditAction
from flip_models.store.tables.base import Base, created_at, text_enum, uuid_pk
from flip_models.store.tables.model import Model


class ModelsAudit(Base):
    __tablename__ = "models_audit"
    __table_args__ = (
        Index("ix_models_audit_model_id_action_audit_date", "model_id", "action", "audit_date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id), nullable=False)
    action: Mapped[ModelAuditAction] = mapped_column(
        text_enum(ModelAuditAction, "model_audit_action"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    audit_date: Mapped[datetime] = created_at()
