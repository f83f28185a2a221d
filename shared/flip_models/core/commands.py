"""What people do to existing models (SPEC §3, §4): edit, delete one, delete a project's models
(creating one is :mod:`flip_models.core.creation`, which needs none of the run tables these lock).

Each takes the caller's Session and flushes; the caller's ``session_scope`` commits. Checks that
depend on the model's state are made under its row lock (:func:`transitions.lock_model`), which the
command then keeps for its writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from flip_models.core.schemas import ModelDetails
from flip_models.core.status import ACTIVE_STATUSES
from flip_models.core.transitions import dequeue, lock_model, transition
from flip_models.enums import ModelAuditAction, ModelStatus
from flip_models.errors import ConflictError, InvalidError, NotFoundError
from flip_models.store.tables import Model, ModelsAudit


def edit_model(
    model_id: uuid.UUID, details: ModelDetails | Mapping[str, Any], user_id: uuid.UUID, session: Session
) -> None:
    """Set a model's name and description and write an ``EDIT`` audit row (SPEC §3)."""
    details = _validated(details)
    model = lock_model(model_id, session)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist")
    _apply_edit(model, details, user_id, session)


def edit_model_by_user(
    model_id: uuid.UUID, details: ModelDetails, user_id: uuid.UUID, session: Session
) -> None:
    """A person's edit: only a live ``PENDING`` model, checked under the row lock (else InvalidError)."""
    model = lock_model(model_id, session)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist", field="modelId")
    if model.deleted:
        raise InvalidError(f"model {model_id} is deleted and cannot be edited", field="modelId")
    if model.status != ModelStatus.PENDING:
        raise InvalidError(
            f"only a PENDING model can be edited; model {model_id} is {model.status}", field="status"
        )
    _apply_edit(model, details, user_id, session)


def _validated(details: ModelDetails | Mapping[str, Any]) -> ModelDetails:
    if isinstance(details, ModelDetails):
        return details
    try:
        return ModelDetails.model_validate(details)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidError(f"{field}: {first['msg']}", field=field) from None


def _apply_edit(model: Model, details: ModelDetails, user_id: uuid.UUID, session: Session) -> None:
    model.name = details.name
    model.description = details.description
    session.add(ModelsAudit(model_id=model.id, action=ModelAuditAction.EDIT, user_id=user_id))
    session.flush()


def delete_model(model_id: uuid.UUID, user_id: uuid.UUID, session: Session) -> None:
    """Soft-delete a model with a ``DELETE`` audit row; an active run is stopped first, and a queued
    one taken out of the queue (a deleted model never starts)."""
    model = lock_model(model_id, session)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist")
    if model.deleted:
        raise ConflictError(f"model {model_id} is already deleted")
    if model.status in ACTIVE_STATUSES:
        transition(model, ModelStatus.STOPPED, session, user_id)
    dequeue(session, model.id)
    model.deleted = True
    session.add(ModelsAudit(model_id=model_id, action=ModelAuditAction.DELETE, user_id=user_id))
    session.flush()


def delete_models(
    project_id: uuid.UUID, user_id: uuid.UUID, session: Session, ensure_deletion: bool = True
) -> int:
    """Soft-delete every not-yet-deleted model of a project (active runs stopped first, queued ones
    taken out of the queue); the count.

    With ``ensure_deletion``, a project with nothing left to delete is a not-found error.
    """
    models = session.scalars(
        select(Model)
        .where(Model.project_id == project_id, Model.deleted.is_(False))
        .order_by(Model.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if not models:
        if ensure_deletion:
            raise NotFoundError(f"project {project_id} has no models left to delete")
        return 0
    for model in models:
        if model.status in ACTIVE_STATUSES:
            transition(model, ModelStatus.STOPPED, session, user_id)
    ids = [model.id for model in models]
    dequeue(session, *ids)
    session.execute(
        update(Model)
        .where(Model.id.in_(ids))
        .values(deleted=True)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        insert(ModelsAudit),
        [{"model_id": model_id, "action": ModelAuditAction.DELETE, "user_id": user_id} for model_id in ids],
    )
    session.expire_all()
    return len(ids)
