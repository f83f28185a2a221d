"""The service's ``model_status_audit`` table (SPEC §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from flip_models.enums import StatusAuditAction
from flip_models.store.tables.base import Base, text_enum, timestamp, uuid_pk
from flip_models.store.tables.model import Model


class ModelStatusAudit(Base):
    """The audit rows of statuses FLIP's ``modelauditaction`` cannot hold (``STOPPED``, ``ERROR``,
    ``RESULTS_UPLOAD_FAILED``), with the person who set it (``user_id``; NULL: a background change).
    Reads that show who did what, or when, read it beside ``models_audit``."""

    __tablename__ = "model_status_audit"
    __table_args__ = (Index("ix_model_status_audit_model_id_audit_date", "model_id", "audit_date"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Model.id, ondelete="CASCADE"), nullable=False)
    action: Mapped[StatusAuditAction] = mapped_column(
        text_enum(StatusAuditAction, "model_status_audit_action"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    audit_date: Mapped[datetime] = timestamp()
