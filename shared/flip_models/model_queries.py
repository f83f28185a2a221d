"""Operations behind the HTTP API that SPEC §3 does not define: create, detail, logs, trusts, list.

Each is a plain function taking a Session (the caller's unit of work); access is checked by the
caller through :mod:`flip_models.access` before these run, except in :func:`list_models`, whose
visibility rule is part of its query. Results are pydantic models built explicitly from rows.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from flip_models.access import Caller, ModelFacts, ProjectFacts, readable_projects
from flip_models.api_schemas import (
    CreateModelRequest,
    LogEntry,
    LogsPage,
    ModelDetail,
    ModelList,
    ModelSummary,
    ModelTrust,
    TrustSummary,
)
from flip_models.enums import ModelAuditAction, ModelStatus, ProjectStatus, TrustIntersectStatus
from flip_models.errors import InvalidError, NotFoundError
from flip_models.log_rendering import render_log
from flip_models.schemas import ModelDetails, storable_text
from flip_models.service import edit_model
from flip_models.tables import (
    FLLogs,
    Model,
    ModelsAudit,
    ModelTrustIntersect,
    Project,
    ProjectTrustIntersect,
    Trust,
)

LOGS_DEFAULT_LIMIT = 500
LOGS_MAX_LIMIT = 5000
PAGE_DEFAULT = 1
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
PAGE_NUMBER_MAX = 1_000_000
SEARCH_MAX_LENGTH = 200


# --- create ----------------------------------------------------------------------------------------


def create_model(
    request: CreateModelRequest, project: ProjectFacts, owner_id: uuid.UUID, session: Session
) -> uuid.UUID:
    """A new ``PENDING`` model with one ``PENDING`` trust row per approved trust of its project.

    The project must be ``APPROVED`` and have at least one approved trust (else InvalidError on
    ``projectId``). Like FLIP, creating a model writes no audit row.
    """
    if project.status != ProjectStatus.APPROVED:
        raise InvalidError(
            f"project {project.project_id} is {project.status}, not APPROVED: models cannot be added yet",
            field="projectId",
        )
    trust_ids = session.scalars(
        select(ProjectTrustIntersect.trust_id)
        .where(ProjectTrustIntersect.project_id == project.project_id, ProjectTrustIntersect.approved)
        .distinct()
        .order_by(ProjectTrustIntersect.trust_id)
    ).all()
    if not trust_ids:
        raise InvalidError(f"project {project.project_id} has no approved trust", field="projectId")
    model = Model(
        id=uuid.uuid4(),
        name=request.name,
        description=request.description,
        status=ModelStatus.PENDING,
        project_id=project.project_id,
        owner_id=owner_id,
    )
    session.add(model)
    session.flush()
    session.add_all(
        ModelTrustIntersect(model_id=model.id, trust_id=trust_id, status=TrustIntersectStatus.PENDING)
        for trust_id in trust_ids
    )
    session.flush()
    return model.id


# --- edit -----------------------------------------------------------------------------------------


def edit_model_by_user(
    model: ModelFacts, details: ModelDetails, user_id: uuid.UUID, session: Session
) -> None:
    """A person's edit: only a live ``PENDING`` model (else InvalidError), then ``service.edit_model``."""
    if model.deleted:
        raise InvalidError(f"model {model.model_id} is deleted and cannot be edited", field="modelId")
    if model.status != ModelStatus.PENDING:
        raise InvalidError(
            f"only a PENDING model can be edited; model {model.model_id} is {model.status}", field="status"
        )
    edit_model(model.model_id, details, user_id, session)


# --- one model ---------------------------------------------------------------------------------------

_STAGE_ACTIONS = (ModelAuditAction.PREPARED, ModelAuditAction.RUNNING, ModelAuditAction.RESULTS_UPLOADED)


def _model_trusts(model_ids: Sequence[uuid.UUID], session: Session) -> dict[uuid.UUID, list[ModelTrust]]:
    """Trusts of many models in one query, ordered by trust name."""
    found: dict[uuid.UUID, list[ModelTrust]] = {model_id: [] for model_id in model_ids}
    if not model_ids:
        return found
    rows = session.execute(
        select(ModelTrustIntersect.model_id, Trust.id, Trust.name, Trust.code, ModelTrustIntersect.status)
        .join(Trust, Trust.id == ModelTrustIntersect.trust_id)
        .where(ModelTrustIntersect.model_id.in_(model_ids))
        .order_by(ModelTrustIntersect.model_id, Trust.name, Trust.id)
    ).all()
    for model_id, trust_id, name, code, status in rows:
        found[model_id].append(ModelTrust(id=trust_id, name=name, code=code, status=status))
    return found


def get_model_trusts(model_id: uuid.UUID, session: Session) -> list[ModelTrust]:
    """The trusts taking part in a model, with their request status, ordered by name."""
    return _model_trusts([model_id], session)[model_id]


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


# --- logs -------------------------------------------------------------------------------------------


def encode_log_cursor(log_date: datetime, log_id: uuid.UUID) -> str:
    """An opaque cursor: the (log_date, id) of the last row served, base64url without padding."""
    raw = json.dumps([log_date.isoformat(), str(log_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_log_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor stands for; anything else is an InvalidError on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        date_text, id_text = json.loads(raw)
        log_date = datetime.fromisoformat(date_text)
        log_id = uuid.UUID(id_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidError("cursor is not one this API returned", field="cursor") from None
    if log_date.tzinfo is None:
        raise InvalidError("cursor is not one this API returned", field="cursor")
    try:
        return log_date.astimezone(UTC), log_id
    except OverflowError:
        raise InvalidError("cursor is not one this API returned", field="cursor") from None


def get_logs_page(
    model_id: uuid.UUID, session: Session, *, limit: int = LOGS_DEFAULT_LIMIT, cursor: str | None = None
) -> LogsPage:
    """Up to ``limit`` log rows after ``cursor``, oldest first (keyset on ``(log_date, id)``)."""
    if not 1 <= limit <= LOGS_MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {LOGS_MAX_LIMIT}", field="limit")
    statement = (
        select(
            FLLogs.id,
            FLLogs.model_id,
            FLLogs.log_date,
            FLLogs.success,
            Trust.name,
            Trust.code,
            FLLogs.global_round,
            FLLogs.log,
            FLLogs.event_type,
            FLLogs.details,
        )
        .outerjoin(Trust, Trust.id == FLLogs.trust)
        .where(FLLogs.model_id == model_id)
        .order_by(FLLogs.log_date, FLLogs.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        after = decode_log_cursor(cursor)
        statement = statement.where(tuple_(FLLogs.log_date, FLLogs.id) > tuple_(*after))
    # A Core query on the session's connection: plain column rows, no ORM loading machinery.
    rows = session.connection().execute(statement).all()
    page, more = rows[:limit], len(rows) > limit
    # The values come typed from our own columns (UUID, timestamptz, bool, text, int): the entries
    # are constructed without validating them again, which was most of a page's Python time.
    data = [
        LogEntry.model_construct(
            id=log_id,
            model_id=log_model_id,
            log_date=log_date,
            success=success,
            trust_name=trust_name,
            trust_code=trust_code,
            global_round=global_round,
            log=render_log(log, event_type, global_round, details),
        )
        for (
            log_id,
            log_model_id,
            log_date,
            success,
            trust_name,
            trust_code,
            global_round,
            log,
            event_type,
            details,
        ) in page
    ]
    next_cursor = encode_log_cursor(page[-1].log_date, page[-1].id) if more else None
    return LogsPage(data=data, next_cursor=next_cursor)


# --- list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFilter:
    """``GET /models`` query, normalised: page ≥ 1, 1 ≤ page size ≤ PAGE_SIZE_MAX."""

    page: int = PAGE_DEFAULT
    page_size: int = PAGE_SIZE_DEFAULT
    search: str | None = None
    statuses: frozenset[ModelStatus] = frozenset()
    project_id: uuid.UUID | None = None

    @classmethod
    def from_query(
        cls,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
        status: str | None = None,
        project_id: uuid.UUID | None = None,
    ) -> ModelFilter:
        """Values ≤ 0 (or absent) take the defaults; a page size above the maximum is capped.

        A page number above ``PAGE_NUMBER_MAX`` or unstorable search text is an InvalidError.
        """
        if page is not None and page > PAGE_NUMBER_MAX:
            raise InvalidError(f"pageNumber must be at most {PAGE_NUMBER_MAX}", field="pageNumber")
        if search is not None:
            try:
                storable_text(search)
            except ValueError as error:
                raise InvalidError(f"search {error}", field="search") from None
        return cls(
            page=page if page is not None and page > 0 else PAGE_DEFAULT,
            page_size=min(page_size, PAGE_SIZE_MAX)
            if page_size is not None and page_size > 0
            else PAGE_SIZE_DEFAULT,
            search=(search or "").strip() or None,
            statuses=parse_status_filter(status),
            project_id=project_id,
        )


def parse_status_filter(value: str | None) -> frozenset[ModelStatus]:
    """A comma-separated list of statuses (blank items ignored); an unknown one is an InvalidError."""
    statuses: set[ModelStatus] = set()
    for item in (value or "").split(","):
        name = item.strip()
        if not name:
            continue
        try:
            statuses.add(ModelStatus(name.upper()))
        except ValueError:
            raise InvalidError(f"invalid model status filter: {name[:40]}", field="status") from None
    return frozenset(statuses)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _visible_models(caller: Caller, query: ModelFilter) -> Select[Any]:
    """Models the caller may read, not deleted, in live projects, matching search and project."""
    statement = (
        select(Model.id)
        .join(Project, Project.id == Model.project_id)
        .where(Model.deleted.is_(False), Project.deleted.is_(False), readable_projects(caller))
    )
    if query.project_id is not None:
        statement = statement.where(Model.project_id == query.project_id)
    if query.search:
        pattern = f"%{_escape_like(query.search)}%"
        statement = statement.where(
            or_(Model.name.ilike(pattern, escape="\\"), Project.name.ilike(pattern, escape="\\"))
        )
    return statement


def list_models(caller: Caller, query: ModelFilter, session: Session) -> ModelList:
    """One page of the models the caller may read, newest first, with per-status counts.

    Three queries: the counts per status (search, access and project applied, the status filter
    not), the page, and the page's trusts. ``totalRecords`` is summed from the counts.
    """
    visible = _visible_models(caller, query)
    counts = visible.with_only_columns(Model.status, func.count()).group_by(Model.status)
    counted: dict[ModelStatus, int] = dict(session.execute(counts).all())
    status_counts = {status: int(counted.get(status, 0)) for status in ModelStatus}
    wanted = query.statuses or frozenset(ModelStatus)
    total = sum(status_counts[status] for status in wanted)
    page = visible.where(Model.status.in_(query.statuses)) if query.statuses else visible
    page_rows = session.execute(
        page.with_only_columns(
            Model.id,
            Model.name,
            Model.description,
            Model.status,
            Model.project_id,
            Project.name.label("project_name"),
            Model.owner_id,
            Model.creation_timestamp,
        )
        .order_by(Model.creation_timestamp.desc(), Model.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    trusts = _model_trusts([row.id for row in page_rows], session)
    data = [
        ModelSummary(
            id=row.id,
            name=row.name,
            description=row.description,
            status=row.status,
            project_id=row.project_id,
            project_name=row.project_name,
            owner_id=row.owner_id,
            creation_timestamp=row.creation_timestamp,
            trusts=[TrustSummary(id=t.id, name=t.name, code=t.code) for t in trusts[row.id]],
        )
        for row in page_rows
    ]
    return ModelList(
        page=query.page,
        page_size=query.page_size,
        total_pages=math.ceil(total / query.page_size),
        total_records=total,
        data=data,
        status_counts=status_counts,
    )
