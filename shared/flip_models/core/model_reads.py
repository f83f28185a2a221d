"""One model as the API shows it: its status, and the model page (SPEC §4) in two queries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ScalarSelect, func, literal, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from flip_models.core.runs import run_facts
from flip_models.core.schemas import ModelDetail, ModelFile, ModelStatusView, ProjectQuery
from flip_models.enums import ModelAuditAction
from flip_models.errors import NotFoundError
from flip_models.store.tables import Model, ModelsAudit, Query, UploadedFile


def get_model_status(model_id: uuid.UUID, session: Session) -> ModelStatusView | None:
    """The model's status and deleted flag, or None when it does not exist (SPEC §3)."""
    row = session.execute(select(Model.status, Model.deleted).where(Model.id == model_id)).one_or_none()
    return None if row is None else ModelStatusView(status=row.status, deleted=row.deleted)


def _latest_audit(action: ModelAuditAction) -> ScalarSelect[Any]:
    """The date of the model's latest audit row of ``action`` (an index lookup per action)."""
    return (
        select(func.max(ModelsAudit.audit_date))
        .where(ModelsAudit.model_id == Model.id, ModelsAudit.action == action)
        .scalar_subquery()
    )


def _files() -> ScalarSelect[Any]:
    """The model's uploaded files as one JSON array, by name."""
    entry = func.json_build_object(
        literal("id"), UploadedFile.id,
        literal("name"), UploadedFile.name,
        literal("status"), UploadedFile.status,
        literal("size"), UploadedFile.size,
        literal("type"), UploadedFile.type,
        literal("tag"), UploadedFile.tag,
    )  # fmt: skip
    return (
        select(func.json_agg(aggregate_order_by(entry, UploadedFile.name, UploadedFile.id)))
        .where(UploadedFile.model_id == Model.id)
        .scalar_subquery()
    )


def get_model_detail(model_id: uuid.UUID, session: Session) -> ModelDetail:
    """The model page: the model, its project's latest query, its files and stage dates (one query),
    then the roster of its newest run and its queue position (:func:`runs.run_facts`)."""
    latest_query = (
        select(Query.id, Query.name, Query.query)
        .where(Query.project_id == Model.project_id)
        .order_by(Query.created.desc(), Query.id.desc())
        .limit(1)
        .lateral("latest_query")
    )
    row = session.execute(
        select(
            Model.id,
            Model.name,
            Model.description,
            Model.project_id,
            Model.status,
            Model.creation_timestamp,
            latest_query.c.id.label("query_id"),
            latest_query.c.name.label("query_name"),
            latest_query.c.query.label("query_text"),
            _files().label("files"),
            _latest_audit(ModelAuditAction.PREPARED).label("prepared_at"),
            _latest_audit(ModelAuditAction.RUNNING).label("running_at"),
            _latest_audit(ModelAuditAction.RESULTS_UPLOADED).label("results_uploaded_at"),
        )
        .outerjoin(latest_query, true())
        .where(Model.id == model_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"model {model_id} does not exist", field="modelId")
    run = run_facts([model_id], session)[model_id]
    query = (
        None
        if row.query_id is None
        else ProjectQuery(id=row.query_id, name=row.query_name, query=row.query_text)
    )
    return ModelDetail(
        model_id=row.id,
        model_name=row.name,
        model_description=row.description,
        project_id=row.project_id,
        status=row.status,
        query=query,
        files=[ModelFile.model_validate(file) for file in row.files or []],
        creation_timestamp=row.creation_timestamp,
        prepared_at=row.prepared_at,
        running_at=row.running_at,
        training_started_at=row.running_at,
        results_uploaded_at=row.results_uploaded_at,
        trusts=run.trusts,
        queue_position=run.queue_position,
    )
