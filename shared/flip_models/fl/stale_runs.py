"""Runs whose FL server went silent are failed, and their scheduler freed (SPEC §8; FLIP issue #727).

A run is *stale* when its model is not deleted, is ``INITIATED``, ``PREPARED`` or ``RUNNING``, and
its newest sign of life is older than ``STALE_RUN_MINUTES``. The signs of life: its newest
``fl_logs``, ``fl_metrics``, ``models_audit`` and ``model_status_audit`` rows (a row without a date
is none), and its newest ``fl_job``'s ``started`` (else that job's ``created``). A model with none
of these at all counts from its own creation, so that no active model escapes the rule. Now is the
database's (``now()``); the rows hold UTC (the sessions' time zone), set by the service's clock.

The sweep runs in two phases: one query finds the candidates (:func:`find_stale_runs`), then each
is failed in its own transaction (:func:`fail_stale_run`): the model row is locked once, the rule
is checked again under the lock (a message that arrived meanwhile wins), and the model moves to
``ERROR`` through the core's background transition (audit row, hub line, scheduler released) with
one more hub line that says why. A model already failed is no longer a candidate, so a second sweep
changes nothing, and two sweeps at once fail each model once (the second waits for the row lock,
then finds the model ``ERROR``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import ColumnElement, Integer, Interval, Select, bindparam, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from flip_models.core.status import ACTIVE_STATUSES
from flip_models.core.transitions import insert_log, lock_model, transition
from flip_models.enums import ModelStatus
from flip_models.errors import FlipError
from flip_models.observability import logger, metrics
from flip_models.store.db import DatabaseError, session_scope
from flip_models.store.tables import FLJob, FLLogs, FLMetrics, Model, ModelsAudit, ModelStatusAudit


def explanation(silent_minutes: int) -> str:
    """The SPEC §8 hub line written after the ``ERROR`` line of a failed run."""
    return f"No message from the FL server for {silent_minutes} minutes: the run was marked as failed."


def last_sign_of_life() -> ColumnElement[datetime]:
    """The newest sign of life of the ``model`` row of the enclosing query (correlated subqueries).

    Each subquery is one short index scan: ``fl_logs (model_id, log_date, id)`` and ``fl_metrics
    (model_id, timestamp)`` read backwards for their newest row, ``models_audit (model_id, action,
    audit_date)``, ``model_status_audit (model_id, audit_date)`` and ``fl_job (model_id, created)``
    for the model's few audit rows and jobs. A row without a date (other writers) is no sign of life.
    """
    newest_log = select(func.max(FLLogs.log_date)).where(FLLogs.model_id == Model.id).scalar_subquery()
    newest_metric = (
        select(func.max(FLMetrics.timestamp)).where(FLMetrics.model_id == Model.id).scalar_subquery()
    )
    newest_audit = (
        select(func.max(ModelsAudit.audit_date)).where(ModelsAudit.model_id == Model.id).scalar_subquery()
    )
    newest_status_audit = (
        select(func.max(ModelStatusAudit.audit_date))
        .where(ModelStatusAudit.model_id == Model.id)
        .scalar_subquery()
    )
    newest_job = (
        select(func.coalesce(FLJob.started, FLJob.created))
        .where(FLJob.model_id == Model.id)
        .order_by(FLJob.created.desc(), FLJob.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # GREATEST skips NULLs (a model without metrics, say); it is NULL only when all five are.
    signs = func.greatest(newest_log, newest_metric, newest_audit, newest_status_audit, newest_job)
    return func.coalesce(signs, Model.creation_timestamp)


def stale_runs_query(
    stale_after_minutes: int, model_id: uuid.UUID | None = None
) -> Select[tuple[uuid.UUID, datetime, int]]:
    """The stale runs (or only ``model_id``, when stale), oldest silence first: (model id, last sign
    of life, whole minutes silent)."""
    active: list[ColumnElement[bool]] = [Model.deleted.is_(False), Model.status.in_(sorted(ACTIVE_STATUSES))]
    if model_id is not None:
        active.append(Model.id == model_id)
    runs = (
        select(Model.id.label("model_id"), last_sign_of_life().label("last_seen")).where(*active).subquery()
    )
    threshold = bindparam("stale_after", timedelta(minutes=stale_after_minutes), type_=Interval)
    silent_minutes = func.floor(func.extract("epoch", func.now() - runs.c.last_seen) / 60)
    return (
        select(runs.c.model_id, runs.c.last_seen, cast(silent_minutes, Integer).label("silent_minutes"))
        .where(runs.c.last_seen < func.now() - threshold)
        .order_by(runs.c.last_seen, runs.c.model_id)
    )


@dataclass(frozen=True)
class StaleRun:
    """A run found stale: its model, its newest sign of life, and for how many whole minutes."""

    model_id: uuid.UUID
    last_seen: datetime
    silent_minutes: int


def find_stale_runs(stale_after_minutes: int, session: Session) -> list[StaleRun]:
    """Phase one: every stale run, in one query."""
    rows = session.execute(stale_runs_query(stale_after_minutes)).all()
    return [StaleRun(row.model_id, row.last_seen, int(row.silent_minutes)) for row in rows]


def fail_stale_run(model_id: uuid.UUID, stale_after_minutes: int, session: Session) -> StaleRun | None:
    """Phase two, for one model: lock it, check the rule again, fail it; None when it is not stale now.

    The caller's transaction holds the row lock until it commits, so a status message or a log batch
    that touches the model waits, and one that committed before the lock is seen by the re-check.
    """
    model = lock_model(model_id, session)
    if model is None:
        return None
    row = session.execute(stale_runs_query(stale_after_minutes, model_id)).one_or_none()
    if row is None:  # fresh again, finished, stopped or deleted meanwhile
        return None
    if transition(model, ModelStatus.ERROR, session) != ModelStatus.ERROR:
        return None  # cannot happen from an active status; the explanation never goes alone
    # A statement after the ERROR line's, so dated after it: it follows it in the feed.
    insert_log(session, model_id=model_id, log=explanation(int(row.silent_minutes)), success=False)
    return StaleRun(model_id, row.last_seen, int(row.silent_minutes))


@dataclass
class Sweep:
    """What one sweep did: the threshold, how many candidates it found, which runs it failed."""

    stale_after_minutes: int
    candidates: int = 0
    failed: list[StaleRun] = field(default_factory=list)
    errors: list[uuid.UUID] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "staleRunMinutes": self.stale_after_minutes,
            "candidates": self.candidates,
            "failed": [str(run.model_id) for run in self.failed],
            "errors": [str(model_id) for model_id in self.errors],
        }


class SweepError(FlipError):
    """Some stale runs could not be failed (the others were); the next sweep tries them again."""


def fail_stale_runs(stale_after_minutes: int, session_factory: sessionmaker[Session] | None = None) -> Sweep:
    """The sweep: find the stale runs, then fail each in its own transaction; log and count each one.

    A database that is down ends the sweep (:class:`DatabaseUnavailableError`; what was committed
    stays). A model the database refuses to change (:class:`DatabaseError`) is logged and skipped,
    and :class:`SweepError` is raised once the others are done, so the invocation is reported failed.
    """
    sweep = Sweep(stale_after_minutes)
    try:
        with session_scope(session_factory) as session:
            candidates = find_stale_runs(stale_after_minutes, session)
        sweep.candidates = len(candidates)
        for candidate in candidates:
            _fail_one(candidate.model_id, sweep, session_factory)
    finally:
        metrics.add_metric(name="StaleRunsFailed", unit=MetricUnit.Count, value=len(sweep.failed))
        logger.info("stale runs swept", extra=sweep.summary())
    if sweep.errors:
        listed = ", ".join(str(model_id) for model_id in sweep.errors)
        raise SweepError(f"{len(sweep.errors)} stale run(s) could not be failed: {listed}")
    return sweep


def _fail_one(model_id: uuid.UUID, sweep: Sweep, session_factory: sessionmaker[Session] | None) -> None:
    try:
        with session_scope(session_factory) as session:
            failed = fail_stale_run(model_id, sweep.stale_after_minutes, session)
    except DatabaseError as error:  # this model only (a rule the database enforces); not transient
        logger.error(
            "stale run could not be failed", extra={"model_id": str(model_id), "error": error.message}
        )
        sweep.errors.append(model_id)
        return
    if failed is None:
        logger.info("stale run came back to life before it was failed", extra={"model_id": str(model_id)})
        return
    sweep.failed.append(failed)
    logger.warning(
        "stale run failed",
        extra={
            "model_id": str(model_id),
            "last_seen": failed.last_seen.isoformat(),
            "silent_minutes": failed.silent_minutes,
            "stale_run_minutes": sweep.stale_after_minutes,
        },
    )
