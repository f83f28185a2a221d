"""Status transitions (SPEC §3 ``update_model_status``) and the writes that go with them.

One row lock per transition: the model row is read ``FOR UPDATE`` once (:func:`lock_model`) and the
locked row is passed on (:func:`transition`), so concurrent changes of one model serialise and no
caller locks it twice. Unit of work: these functions flush; the caller's ``session_scope`` commits,
so a whole invocation is one transaction. ``add_log`` keeps SPEC §3's documented contract of
committing when it is not given the caller's transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, SessionTransaction

from flip_models.core.status import (
    HUB_LOG_LINES,
    STATUS_AUDIT_ACTIONS,
    TERMINAL_STATUSES,
    USER_SETTABLE_STATUSES,
    ignored_because,
    is_person_change,
)
from flip_models.enums import JobStatus, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import InvalidError, NotFoundError
from flip_models.observability import logger
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model, ModelsAudit, ModelStatusAudit, Trust
from flip_models.store.tables.base import utc_now


def lock_model(model_id: uuid.UUID, session: Session) -> Model | None:
    """The model row read with ``SELECT … FOR UPDATE`` (fresh from the database), or None."""
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
    model = lock_model(model_id, session)
    if model is None:
        return None
    return transition(model, None if status is None else ModelStatus(status), session, user_id)


def transition(
    model: Model, status: ModelStatus | None, session: Session, user_id: uuid.UUID | None = None
) -> ModelStatus:
    """:func:`update_model_status` on a row the caller has already locked (:func:`lock_model`)."""
    current = model.status
    new = current if status is None else status
    background = user_id is None
    newest_job = (
        _newest_job_status(model.id, session) if background and current == ModelStatus.PENDING else None
    )
    reason = ignored_because(current, new, background=background, newest_job=newest_job)
    if reason is not None:
        if new != current:  # re-asserting the status is no news
            logger.info(
                "status change ignored",
                extra={"model_id": str(model.id), "status": current, "requested": new, "reason": reason},
            )
        return current
    model.status = new
    action = STATUS_AUDIT_ACTIONS.get(new)
    if isinstance(action, StatusAuditAction):
        session.add(ModelStatusAudit(model_id=model.id, action=action, user_id=user_id))
    elif action is not None:
        session.add(ModelsAudit(model_id=model.id, action=action, user_id=user_id))
    if new in TERMINAL_STATUSES:
        release_scheduler_for_model(model.id, session)
    hub_line = HUB_LOG_LINES.get(new)
    if hub_line is not None:
        line, success = hub_line
        insert_log(session, model_id=model.id, log=line, success=success)
    session.flush()
    return new


def update_model_status_by_user(
    model_id: uuid.UUID, status: ModelStatus, user_id: uuid.UUID, session: Session
) -> tuple[ModelStatus, bool]:
    """A person's status change (only ``STOPPED`` or ``PENDING``); returns (status now, changed).

    Decided under the model's row lock (:func:`status.is_person_change`): read before it, racing
    requests would all see the old status and all report a change that only one of them made.
    Stopping a queued ``PENDING`` model takes its ``QUEUED`` jobs out of the queue (``DELETED``).
    """
    if status not in USER_SETTABLE_STATUSES:
        allowed = " or ".join(sorted(USER_SETTABLE_STATUSES))
        raise InvalidError(f"a person may set the status only to {allowed}, not {status}", field="status")
    model = lock_model(model_id, session)
    if model is None or model.deleted:
        raise NotFoundError(f"model {model_id} does not exist")
    before = model.status
    queued = (
        before == ModelStatus.PENDING and status == ModelStatus.STOPPED and _has_queued_job(model, session)
    )
    if not is_person_change(before, status, queued=queued):
        return before, False
    if queued:
        dequeue(session, model.id)
    now = transition(model, status, session, user_id)
    return now, now != before


def _newest_job_status(model_id: uuid.UUID, session: Session) -> JobStatus | None:
    """The status of the model's newest ``fl_job`` (by ``created``, then ``id``), None when it has none."""
    return session.scalar(
        select(FLJob.status)
        .where(FLJob.model_id == model_id)
        .order_by(FLJob.created.desc(), FLJob.id.desc())
        .limit(1)
    )


def _has_queued_job(model: Model, session: Session) -> bool:
    return (
        session.scalar(select(exists().where(FLJob.model_id == model.id, FLJob.status == JobStatus.QUEUED)))
        is True
    )


def dequeue(session: Session, *model_ids: uuid.UUID) -> None:
    """Take the models out of the job queue: their ``QUEUED`` jobs become ``DELETED``."""
    session.execute(
        update(FLJob)
        .where(FLJob.model_id.in_(model_ids), FLJob.status == JobStatus.QUEUED)
        .values(status=JobStatus.DELETED)
        .execution_options(synchronize_session=False)
    )


def release_scheduler_for_model(model_id: uuid.UUID, session: Session) -> None:
    """The model's newest ``IN_PROGRESS`` job becomes COMPLETED; the scheduler holding it AVAILABLE.

    A ``QUEUED`` job is never completed by a release: it has not started, and completing it would
    take the model out of the queue (SPEC §3 rule 3).
    """
    job = session.scalar(
        select(FLJob)
        .where(FLJob.model_id == model_id, FLJob.status == JobStatus.IN_PROGRESS)
        .order_by(FLJob.created.desc(), FLJob.id.desc())
        .limit(1)
        .with_for_update()
    )
    if job is None:
        return
    job.status = JobStatus.COMPLETED
    job.completed = utc_now()
    session.execute(
        update(FLScheduler)
        .where(FLScheduler.job_id == job.id)
        .values(status=NetStatus.AVAILABLE, job_id=None)
        .execution_options(synchronize_session="fetch")
    )


def insert_log(session: Session, **columns: Any) -> FLLogs:
    """One ``fl_logs`` row added to the caller's unit of work (flushed, never committed here), dated
    by the database's clock when it is written (``statement_timestamp()``), as the FL batches date
    theirs (the logs feed's order only grows as rows are written: core/logs.py)."""
    columns.setdefault("log_date", func.statement_timestamp())
    row = FLLogs(**columns)
    session.add(row)
    session.flush()
    return row


def add_log(
    model_id: uuid.UUID,
    log: str | None,
    session: Session,
    transaction: SessionTransaction | None = None,
    success: bool = True,
    trust: Trust | None = None,
    fl_client_name: str | None = None,
    event_type: str | None = None,
    global_round: int | None = None,
    details: dict[str, Any] | None = None,
) -> FLLogs:
    """Insert one ``fl_logs`` row, as SPEC §3 names it: ``trust`` is the :class:`Trust` that
    ``resolve_trust_from_fl_client_name`` returns (None = a hub row).

    Commits unless the caller passes its own ``transaction``, in which case the row is only
    flushed and the caller commits. When this call owns the commit, an error rolls back first.
    """
    try:
        row = insert_log(
            session,
            model_id=model_id,
            log=log,
            success=success,
            trust=None if trust is None else trust.id,
            fl_client_name=fl_client_name,
            event_type=event_type,
            global_round=global_round,
            details=details,
        )
        if transaction is None:
            session.commit()
    except Exception:
        if transaction is None:
            session.rollback()
        raise
    return row
