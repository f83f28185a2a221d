"""The model service operations of SPEC §3: each a plain function taking a SQLAlchemy Session.

Unit of work: the operations flush but leave the commit to the caller (``db.session_scope``), so a
handler's whole invocation is one transaction; ``add_log`` keeps its documented contract of
committing when it is not given the caller's transaction. Errors are the domain errors of
``flip_models.errors``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, SessionTransaction

from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus
from flip_models.errors import ConflictError, InvalidError, NotFoundError
from flip_models.schemas import ModelDetails, ModelMetrics, ModelStatusView
from flip_models.tables import (
    FLJob,
    FLKitSlot,
    FLLogs,
    FLScheduler,
    Model,
    ModelsAudit,
    ModelTrustIntersect,
    Trust,
)

S = ModelStatus

#: Status → audit action written on a real change to that status.
STATUS_AUDIT_ACTIONS: Mapping[ModelStatus, ModelAuditAction] = {
    S.PREPARED: ModelAuditAction.PREPARED,
    S.RUNNING: ModelAuditAction.RUNNING,
    S.RESULTS_UPLOADED: ModelAuditAction.RESULTS_UPLOADED,
    S.RESULTS_UPLOAD_FAILED: ModelAuditAction.RESULTS_UPLOAD_FAILED,
    S.ERROR: ModelAuditAction.ERROR,
    S.STOPPED: ModelAuditAction.STOPPED,
}

#: Statuses that end a run and release the FL scheduler.
TERMINAL_STATUSES = frozenset({S.ERROR, S.STOPPED, S.RESULTS_UPLOADED, S.RESULTS_UPLOAD_FAILED})

#: Statuses of a run in flight: deleting such a model stops it first.
ACTIVE_STATUSES = frozenset({S.INITIATED, S.PREPARED, S.RUNNING})

#: Late callbacks a STOPPED model ignores, from people and FL servers alike.
IGNORED_AFTER_STOP = frozenset({S.PREPARED, S.RUNNING, S.ERROR, S.RESULTS_UPLOADED, S.RESULTS_UPLOAD_FAILED})

#: The order of one run; a background transition only moves forward along it.
RUN_ORDER: Mapping[ModelStatus, int] = {
    S.INITIATED: 0,
    S.PREPARED: 1,
    S.RUNNING: 2,
    S.ERROR: 3,
    S.RESULTS_UPLOADED: 4,
    S.RESULTS_UPLOAD_FAILED: 4,
}

#: Statuses a person may set through the API.
USER_SETTABLE_STATUSES = frozenset({S.STOPPED, S.PENDING})

#: Hub log line (text, success) written on a real change to each status; none for PENDING.
HUB_LOG_LINES: Mapping[ModelStatus, tuple[str, bool]] = {
    S.INITIATED: ("This model has been selected from the queue and will be prepared to run.", True),
    S.PREPARED: ("This model has been prepared and its job will begin shortly.", True),
    S.RUNNING: ("The job for this model is now running.", True),
    S.RESULTS_UPLOADED: ("The results of this model have been uploaded and can now be downloaded.", True),
    S.RESULTS_UPLOAD_FAILED: ("The job completed successfully, but uploading the results failed.", False),
    S.ERROR: ("There has been an error whilst running the job for this model.", False),
    S.STOPPED: ("The job for this model has been stopped.", False),
}


def is_transition_allowed(current: ModelStatus, new: ModelStatus, *, background: bool) -> bool:
    """Whether ``current → new`` is a real change under SPEC §3 rules 1–2.

    ``background`` transitions come from FL servers and the hub (no user): they never move a run
    backwards. A new run (``INITIATED``, or back to ``PENDING``) starts only when no run is in
    flight; ``STOPPED`` is accepted only while a run is in flight or has errored.
    """
    if new == current:
        return False
    if current == S.STOPPED and new in IGNORED_AFTER_STOP:
        return False
    if not background:
        return True
    if new in (S.INITIATED, S.PENDING):
        return current not in ACTIVE_STATUSES
    if new == S.STOPPED:
        return current in ACTIVE_STATUSES or current == S.ERROR
    if current == S.PENDING:
        return True
    return RUN_ORDER[new] > RUN_ORDER[current]


def _lock_model(model_id: uuid.UUID, session: Session) -> Model | None:
    """Read the model row with ``SELECT … FOR UPDATE`` so concurrent transitions serialise."""
    statement = (
        select(Model).where(Model.id == model_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalar(statement)


def update_model_status(
    model_id: uuid.UUID,
    status: ModelStatus | str | None,
    session: Session,
    user_id: uuid.UUID | None = None,
) -> ModelStatus | None:
    """Move a model to ``status`` under the transition rules; return the status it now has.

    None when the model does not exist; ``status=None`` re-asserts the current status. On a real
    change: the audit row of the status (``user_id`` may be None), the scheduler released for a
    terminal status, and the status's hub log line. An ignored transition writes nothing.
    """
    model = _lock_model(model_id, session)
    if model is None:
        return None
    current = model.status
    new = current if status is None else ModelStatus(status)
    if not is_transition_allowed(current, new, background=user_id is None):
        return current

    model.status = new
    action = STATUS_AUDIT_ACTIONS.get(new)
    if action is not None:
        session.add(ModelsAudit(model_id=model_id, action=action, user_id=user_id))
    if new in TERMINAL_STATUSES:
        release_scheduler_for_model(model_id, session)
    hub_line = HUB_LOG_LINES.get(new)
    if hub_line is not None:
        text_, success = hub_line
        add_log(model_id, text_, session, transaction=session.get_transaction(), success=success)
    session.flush()
    return new


def update_model_status_by_user(
    model_id: uuid.UUID, status: ModelStatus, user_id: uuid.UUID, session: Session
) -> tuple[ModelStatus, bool]:
    """A person's status change (only ``STOPPED`` or ``PENDING``); returns (status now, changed)."""
    if status not in USER_SETTABLE_STATUSES:
        allowed = " or ".join(sorted(USER_SETTABLE_STATUSES))
        raise InvalidError(f"a person may set the status only to {allowed}, not {status}", field="status")
    # Read the status under the row lock: read before it, racing requests would all see the old
    # status and all report a change that only one of them made.
    model = _lock_model(model_id, session)
    if model is None or model.deleted:
        raise NotFoundError(f"model {model_id} does not exist")
    before = model.status
    now = update_model_status(model_id, status, session, user_id=user_id)
    assert now is not None  # the row exists and is locked
    return now, now != before


def release_scheduler_for_model(model_id: uuid.UUID, session: Session) -> None:
    """The model's newest non-DELETED job becomes COMPLETED; the scheduler holding it AVAILABLE."""
    job = session.scalar(
        select(FLJob)
        .where(FLJob.model_id == model_id, FLJob.status != JobStatus.DELETED)
        .order_by(FLJob.created.desc(), FLJob.id.desc())
        .limit(1)
        .with_for_update()
    )
    if job is None:
        return
    job.status = JobStatus.COMPLETED
    job.completed = func.now()
    session.execute(
        update(FLScheduler)
        .where(FLScheduler.job_id == job.id)
        .values(status=NetStatus.AVAILABLE, job_id=None)
        .execution_options(synchronize_session="fetch")
    )


def add_log(
    model_id: uuid.UUID,
    log: str | None,
    session: Session,
    transaction: SessionTransaction | None = None,
    success: bool = True,
    trust: uuid.UUID | None = None,
    fl_client_name: str | None = None,
    event_type: str | None = None,
    global_round: int | None = None,
    details: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> FLLogs:
    """Insert one ``fl_logs`` row (``trust`` None = a hub row).

    Commits unless the caller passes its own ``transaction``, in which case the row is only
    flushed and the caller commits. When this call owns the commit, an error rolls back first.
    """
    row = FLLogs(
        model_id=model_id,
        log=log,
        success=success,
        trust=trust,
        fl_client_name=fl_client_name,
        event_type=event_type,
        global_round=global_round,
        details=details,
        message_id=message_id,
    )
    try:
        session.add(row)
        session.flush()
        if transaction is None:
            session.commit()
    except Exception:
        if transaction is None:
            session.rollback()
        raise
    return row


def edit_model(
    model_id: uuid.UUID, details: ModelDetails | Mapping[str, Any], user_id: uuid.UUID, session: Session
) -> None:
    """Set a model's name and description and write an ``EDIT`` audit row."""
    if not isinstance(details, ModelDetails):
        try:
            details = ModelDetails.model_validate(details)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise InvalidError(f"{field}: {first['msg']}", field=field) from None
    model = _lock_model(model_id, session)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist")
    model.name = details.name
    model.description = details.description
    session.add(ModelsAudit(model_id=model_id, action=ModelAuditAction.EDIT, user_id=user_id))
    session.flush()


def delete_model(model_id: uuid.UUID, user_id: uuid.UUID, session: Session) -> None:
    """Soft-delete a model with a ``DELETE`` audit row; an active run is stopped first."""
    model = _lock_model(model_id, session)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist")
    if model.deleted:
        raise ConflictError(f"model {model_id} is already deleted")
    if model.status in ACTIVE_STATUSES:
        update_model_status(model_id, S.STOPPED, session, user_id=user_id)
    model.deleted = True
    session.add(ModelsAudit(model_id=model_id, action=ModelAuditAction.DELETE, user_id=user_id))
    session.flush()


def delete_models(
    project_id: uuid.UUID, user_id: uuid.UUID, session: Session, ensure_deletion: bool = True
) -> int:
    """Soft-delete every not-yet-deleted model of a project (active runs stopped first); the count.

    With ``ensure_deletion``, a project with nothing left to delete is a not-found error.
    """
    models = session.execute(
        select(Model.id, Model.status)
        .where(Model.project_id == project_id, Model.deleted.is_(False))
        .order_by(Model.id)
        .with_for_update()
    ).all()
    if not models:
        if ensure_deletion:
            raise NotFoundError(f"project {project_id} has no models left to delete")
        return 0
    for model_id, status in models:
        if status in ACTIVE_STATUSES:
            update_model_status(model_id, S.STOPPED, session, user_id=user_id)
    ids = [model_id for model_id, _ in models]
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


def get_model_status(model_id: uuid.UUID, session: Session) -> ModelStatusView | None:
    """The model's status and deleted flag, or None when it does not exist."""
    row = session.execute(select(Model.status, Model.deleted).where(Model.id == model_id)).one_or_none()
    return None if row is None else ModelStatusView(status=row.status, deleted=row.deleted)


def resolve_trust_from_fl_client_name(fl_client_name: str, session: Session) -> Trust | None:
    """The trust an FL client name stands for, through its FL kit slot (never the display name)."""
    return resolve_trusts_from_fl_client_names([fl_client_name], session).get(fl_client_name)


def resolve_trusts_from_fl_client_names(names: Iterable[str], session: Session) -> dict[str, Trust]:
    """Slot name → assigned trust for many FL client names in one query; unknown/unassigned omitted."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = session.execute(
        select(FLKitSlot.slot_name, Trust)
        .join(Trust, Trust.id == FLKitSlot.assigned_to_trust_id)
        .where(FLKitSlot.slot_name.in_(wanted))
    ).all()
    return {slot_name: trust for slot_name, trust in rows}  # noqa: C416 (Row is not a pair type)


def validate_trust_ids(model_id: uuid.UUID, trust_ids: Iterable[uuid.UUID], session: Session) -> bool:
    """True only if every trust id is associated with the model (a ``model_trust_intersect`` row)."""
    wanted = set(trust_ids)
    if not wanted:
        return True
    found = session.scalar(
        select(func.count(func.distinct(ModelTrustIntersect.trust_id))).where(
            ModelTrustIntersect.model_id == model_id, ModelTrustIntersect.trust_id.in_(wanted)
        )
    )
    return found == len(wanted)


#: The whole ``get_metrics`` result as JSON text, built by PostgreSQL in one query: points per
#: series, series per chart, charts in one array (``[]`` when the model has no metrics). The trust's
#: label is joined to the series, not to every point: the big sort stays narrow.
_METRICS_SQL = text(
    """
    WITH series AS (
        SELECT m.label, m.x_label, m.trust,
               json_agg(json_build_object('xValue', m.x_value, 'yValue', m.result)
                        ORDER BY m.x_value, m.timestamp, m.id) AS data
        FROM fl_metrics AS m
        WHERE m.model_id = :model_id
        GROUP BY m.label, m.x_label, m.trust
    ), labelled AS (
        SELECT s.label, s.x_label, s.trust, s.data,
               COALESCE(NULLIF(t.code, ''), t.name, s.trust::text) AS series_label
        FROM series AS s
        LEFT JOIN trust AS t ON t.id = s.trust
    ), charts AS (
        SELECT label, x_label,
               json_agg(json_build_object('seriesLabel', series_label, 'data', data)
                        ORDER BY series_label, trust) AS metrics
        FROM labelled
        GROUP BY label, x_label
    )
    SELECT COALESCE(json_agg(json_build_object('yLabel', label, 'xLabel', x_label, 'metrics', metrics)
                             ORDER BY label, x_label), '[]')::text
    FROM charts
    """
)


@cache
def _charts_adapter() -> TypeAdapter[list[ModelMetrics]]:
    return TypeAdapter(list[ModelMetrics])


def get_metrics_json(model_id: uuid.UUID, session: Session) -> str:
    """:func:`get_metrics` as the JSON text of its list, for callers that only send it on.

    PostgreSQL builds the text; nothing is parsed into Python objects, so a large model's metrics
    cost one string, not an object per point.
    """
    charts: str = session.execute(_METRICS_SQL, {"model_id": model_id}).scalar_one()
    return charts


def get_metrics(model_id: uuid.UUID, session: Session) -> list[ModelMetrics]:
    """One chart per (label, x_label), a series per trust (code, else name), points sorted by x.

    One SQL query builds the whole structure (:func:`get_metrics_json`); no rows gives ``[]``.
    """
    return _charts_adapter().validate_json(get_metrics_json(model_id, session))
