"""A model's audit trail, read from both tables that hold it (SPEC §2): FLIP's ``models_audit`` (its
five actions) and the service's ``model_status_audit`` (``STOPPED``, ``ERROR``,
``RESULTS_UPLOAD_FAILED``). Whoever shows who did what, or when, reads it here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, select, union_all
from sqlalchemy.orm import Session

from flip_models.enums import ModelAuditAction, StatusAuditAction
from flip_models.store.tables import ModelsAudit, ModelStatusAudit
from flip_models.store.tables.base import UtcDateTime


@dataclass(frozen=True)
class AuditEntry:
    action: ModelAuditAction | StatusAuditAction
    user_id: uuid.UUID | None  #: None: a background change (an FL server, the hub, the sweep)
    audit_date: datetime | None


def model_audit_trail(model_id: uuid.UUID, session: Session) -> list[AuditEntry]:
    """Every audit row of the model, oldest first (rows of one instant by table, then id)."""
    flip = select(
        cast(ModelsAudit.action, Text).label("action"),
        ModelsAudit.user_id,
        ModelsAudit.audit_date,
        ModelsAudit.id,
    ).where(ModelsAudit.model_id == model_id)
    own = select(
        cast(ModelStatusAudit.action, Text).label("action"),
        ModelStatusAudit.user_id,
        ModelStatusAudit.audit_date,
        ModelStatusAudit.id,
    ).where(ModelStatusAudit.model_id == model_id)
    trail = union_all(flip, own).subquery()
    rows = session.execute(
        select(trail.c.action, trail.c.user_id, cast(trail.c.audit_date, UtcDateTime)).order_by(
            trail.c.audit_date.asc().nulls_first(), trail.c.id
        )
    ).all()
    return [AuditEntry(_action(action), user_id, date) for action, user_id, date in rows]


def _action(name: str) -> ModelAuditAction | StatusAuditAction:
    return StatusAuditAction(name) if name in StatusAuditAction.__members__ else ModelAuditAction(name)
