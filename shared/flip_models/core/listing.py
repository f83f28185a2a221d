"""The models list (SPEC §4 ``GET /models``): the models a caller may read, a page at a time; and
the projects they may read (``GET /models/projects``)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from flip_models.core.access import Caller, readable_projects
from flip_models.core.response_size import MAX_BYTES_PER_CHARACTER, cut_text, escaped_size
from flip_models.core.runs import run_facts
from flip_models.core.schemas import ModelList, ModelSummary, ProjectSummary, storable_text
from flip_models.enums import ModelStatus
from flip_models.errors import InvalidError
from flip_models.store.tables import Model, Project, UserProfile

PAGE_DEFAULT = 1
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
PAGE_NUMBER_MAX = 1_000_000
SEARCH_MAX_LENGTH = 200


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


def parse_project_filter(value: str | None) -> uuid.UUID | None:
    """``project=``: a project id, spaces around it ignored; absent or blank means no filter.

    As flip-api's ``_parse_project_id`` (tests/unit/model_services/test_get_all_models_params.py):
    anything else, a malformed id or a number, is an InvalidError (400) rather than no filter, so a
    typo never widens the list to every project the caller may read.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidError("project must be a project id (a UUID)", field="project") from None


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


def visible_models(caller: Caller, query: ModelFilter) -> Select[Any]:
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
    not), the page (with each owner's name), and the page's run rosters and queue positions
    (:func:`runs.run_facts`). ``totalRecords`` is summed from the counts.
    """
    visible = visible_models(caller, query)
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
            UserProfile.name.label("owner_name"),
            Model.creation_timestamp,
        )
        .outerjoin(UserProfile, UserProfile.user_id == Model.owner_id)
        .order_by(Model.creation_timestamp.desc(), Model.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    runs = run_facts([row.id for row in page_rows], session)
    data = [
        ModelSummary(
            id=row.id,
            name=row.name,
            description=row.description,
            status=row.status,
            project_id=row.project_id,
            project_name=row.project_name,
            owner_id=row.owner_id,
            owner_name=row.owner_name,
            creation_timestamp=row.creation_timestamp,
            trusts=runs[row.id].trusts,
            queue_position=runs[row.id].queue_position,
        )
        for row in page_rows
    ]
    return _within_response_limit(
        ModelList(
            page=query.page,
            page_size=query.page_size,
            total_pages=math.ceil(total / query.page_size),
            total_records=total,
            data=data,
            status_counts=status_counts,
        )
    )


#: A page of the list ends before this many bytes once escaped into Lambda's response (SPEC §4).
LIST_MAX_BYTES = 4_000_000


def _within_response_limit(page: ModelList) -> ModelList:
    """The page as it is when it fits :data:`LIST_MAX_BYTES` escaped (always, for what this API
    writes); else each text (names, descriptions, the rosters' trust names and codes: other writers
    of FLIP's tables store any length) cut to an equal share of the budget, each cut ending with how
    many characters it left out. Rows and rosters are never left out: the paging stays exact."""
    if escaped_size(page.model_dump_json(by_alias=True)) <= LIST_MAX_BYTES:
        return page
    texts = sum(4 + 2 * len(row.trusts) for row in page.data)
    keep = max(16, LIST_MAX_BYTES // 2 // (MAX_BYTES_PER_CHARACTER * max(1, texts)))
    rows = [
        row.model_copy(
            update={
                "name": cut_text(row.name, keep),
                "description": cut_text(row.description, keep),
                "project_name": cut_text(row.project_name, keep),
                "owner_name": None if row.owner_name is None else cut_text(row.owner_name, keep),
                "trusts": [
                    trust.model_copy(
                        update={
                            "name": cut_text(trust.name, keep),
                            "code": None if trust.code is None else cut_text(trust.code, keep),
                        }
                    )
                    for trust in row.trusts
                ],
            }
        )
        for row in page.data
    ]
    return page.model_copy(update={"data": rows})


def list_projects(caller: Caller, session: Session) -> list[ProjectSummary]:
    """The projects the caller may read (admin: all), not deleted, by name: the web app's filter."""
    rows = session.execute(
        select(Project.id, Project.name, Project.status)
        .where(Project.deleted.is_(False), readable_projects(caller))
        .order_by(Project.name, Project.id)
    ).all()
    return [ProjectSummary(id=row.id, name=row.name, status=row.status) for row in rows]
