"""The ``models_audit`` table (FLIP's, SPEC §2): only FLIP's five actions; the other audited statuses
go to the service's ``model_status_audit``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import ModelAuditAction
from flip_models.store.tables.base import Base, flip_enum, timestamp, uuid_pk
from flip_models.store.tables.model import Model


class ModelsAudit(Base):
    __tablename__ = "models_audit"
    __table_args__ = (
        Index("flip_models_models_audit_model_id_action_audit_date", "model_id", "action", "audit_date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(Model.id), index=True)
    action: Mapped[ModelAuditAction] = mapped_column(
        flip_enum(ModelAuditAction, "modelauditaction"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    audit_date: Mapped[datetime] = timestamp()
