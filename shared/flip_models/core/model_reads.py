"""One model as the API shows it: its status, and its detail with stage dates and trusts (SPEC §4)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.schemas import ModelDetail, ModelStatusView, TrustSummary
from flip_models.core.trusts import get_model_trusts
from flip_models.enums import ModelAuditAction
from flip_models.errors import NotFoundError
from flip_models.store.tables import Model, ModelsAudit

_STAGE_ACTIONS = (ModelAuditAction.PREPARED, ModelAuditAction.RUNNING, ModelAuditAction.RESULTS_UPLOADED)


def get_model_status(model_id: uuid.UUID, session: Session) -> ModelStatusView | None:
    """The model's status and deleted flag, or None when it does not exist (SPEC §3)."""
    row = session.execute(select(Model.status, Model.deleted).where(Model.id == model_id)).one_or_none()
    return None if row is None else ModelStatusView(status=row.status, deleted=row.deleted)


def get_model_detail(model_id: uuid.UUID, session: Session) -> ModelDetail:
    """A model with its stage dates (latest audit row per action) and trusts."""
    model = session.execute(
        select(
            Model.id, Model.name, Model.description, Model.project_id, Model.status, Model.creation_timestamp
        ).where(Model.id == model_id)
    ).one_or_none()
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist", field="modelId")
    latest = (
        select(ModelsAudit.action, func.max(ModelsAudit.audit_date))
        .where(ModelsAudit.model_id == model_id, ModelsAudit.action.in_(_STAGE_ACTIONS))
        .group_by(ModelsAudit.action)
    )
    stages: dict[ModelAuditAction, datetime] = dict(session.execute(latest).all())
    trusts = [TrustSummary(id=t.id, name=t.name, code=t.code) for t in get_model_trusts(model_id, session)]
    return ModelDetail(
        model_id=model.id,
        model_name=model.name,
        model_description=model.description,
        project_id=model.project_id,
        status=model.status,
        creation_timestamp=model.creation_timestamp,
        prepared_at=stages.get(ModelAuditAction.PREPARED),
        running_at=stages.get(ModelAuditAction.RUNNING),
        results_uploaded_at=stages.get(ModelAuditAction.RESULTS_UPLOADED),
        trusts=trusts,
    )
