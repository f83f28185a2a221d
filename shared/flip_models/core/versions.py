"""What an answer is made of, as one short text: the version behind each polled read's ``ETag``.

A read's *version* changes whenever anything its answer shows changes, whoever wrote it: FLIP's
own services, the FL consumers, this service, or someone typing SQL. So it is never a marker this
service maintains; it is read from the rows themselves, in the same query that loads the access
facts (:class:`~flip_models.core.access.ModelFacts`), so an unchanged poll is one round trip:

- every row PostgreSQL writes gets a new ``xmin`` (the transaction that wrote that version of it):
  an insert or an update changes a row's ``xmin``, a delete removes it. The small sets an answer
  shows (the model and project rows, the model's files, audit rows, jobs and their rosters, the
  trust table, the project's queries, the queue of jobs) are hashed whole: ``count`` and an md5 of
  ``(key, xmin)`` in key order, each set read along its index;
- a page of logs is hashed over the rows its query would read (the same window, keyed and ordered
  by the page's index), with whether each is settled: its cost is the page's, not the feed's;
- the metrics are every one of the model's rows: ``count`` and the sum of their ``xmin`` (a
  change to any row moves the sum; the rows are read along the model's index, but not built). A
  request without ``If-None-Match`` takes them from the metrics query itself, which sums the rows it
  answers with, so a first load reads the rows once;
- the progress card is a function of the aggregate its query reads (:mod:`core.progress`): that
  aggregate's text is the version, and is handed to the card when it must be built.

The tag is a digest of the view, its parameters, who asks (user, roles: an answer that differs per
caller differs in its tag) and the version.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, func, literal_column, select
from sqlalchemy.orm import Session

from flip_models.core.access import (
    Caller,
    ModelFacts,
    Permission,
    ProjectFacts,
    check_model,
    model_facts_columns,
)
from flip_models.store.tables import Model, Project


class View(StrEnum):
    """The polled reads of one model."""

    STATUS = "status"
    MODEL = "model"
    TRUSTS = "trusts"
    PROGRESS = "progress"
    LOGS = "logs"
    METRICS = "metrics"


def _rows(table: str, where: str, key: str = "t.id::text", order: str | None = None) -> str:
    """``count:md5`` of the ``(key, xmin)`` of a small set of rows (SQL text; ``t`` is the table)."""
    # The module's own constants, never input.
    select_ = f"SELECT count(*)::text || ':' || coalesce(md5(string_agg({key} || '.' || t.xmin::text, ','"
    return f"({select_} ORDER BY {order or key})), '') FROM {table} AS t WHERE {where})"


#: The parts of each view's version, as SQL over the outer query's ``model`` and ``projects`` rows.
_TRUST_TABLE = _rows("trust", "true")
_MODEL_TRUSTS = _rows("model_trust_intersect", "t.model_id = model.id")
_JOBS = _rows("fl_job", "t.model_id = model.id")
_ROSTERS = _rows(
    "fl_job_trust",
    "t.fl_job_id IN (SELECT j.id FROM fl_job AS j WHERE j.model_id = model.id)",
    key="t.fl_job_id::text || t.trust_id::text",
)
#: Every queued job, along the queue's partial index: a model's place in it moves with any of them.
_QUEUE = _rows("fl_job", "t.status = 'QUEUED'", key="t.id::text || t.created::text", order="t.created, t.id")
_PAGE = (
    _rows("queries", "t.project_id = model.project_id"),
    _rows("uploaded_files", "t.model_id = model.id"),
    _rows("models_audit", "t.model_id = model.id"),
    _JOBS,
    _ROSTERS,
    _QUEUE,
    _TRUST_TABLE,
)
#: Every metric row of the model (any change to any of them moves the count or the sum).
_METRIC_ROWS = (
    "(SELECT count(*)::text || ':' || coalesce(sum(t.xmin::text::bigint), 0)::text"
    " FROM fl_metrics AS t WHERE t.model_id = model.id)"
)

_PARTS: dict[View, tuple[str, ...]] = {
    View.STATUS: (),
    View.TRUSTS: (_MODEL_TRUSTS, _TRUST_TABLE),
    View.MODEL: _PAGE,
    View.PROGRESS: (_JOBS, _ROSTERS, _TRUST_TABLE),
    View.LOGS: (_TRUST_TABLE,),
    View.METRICS: (_TRUST_TABLE,),  # and the rows' own part (metric_rows_version, or the answer's)
}


def metric_rows_version() -> ColumnElement[str]:
    """The metrics' own part: ``count:sum(xmin)`` of the model's rows, the same text the metrics query
    writes beside the answer (:class:`core.metrics.MetricsAnswer` ``rows_version``), so a first load
    need not read the rows twice."""
    return literal_column(_METRIC_ROWS, Text)


@dataclass(frozen=True)
class Versioned:
    """The model's access facts (None: no such model) and its version for the view."""

    facts: ModelFacts | None
    version: str
    #: What the view's own part read, when the view builds its answer from it (progress).
    extra: str | None = None
    #: What the read needs besides, read in the same statement but no part of the version.
    aside: Any = None


def model_version(
    view: View,
    model_id: uuid.UUID,
    caller: Caller,
    session: Session,
    *,
    part: ColumnElement[Any] | None = None,
    aside: ColumnElement[Any] | None = None,
) -> Versioned:
    """The access facts of the model and the version of ``view`` of it, in one query.

    ``part`` is the view's own part, built by its module (the logs page's window, the progress
    aggregate): returned as ``extra`` and part of the version. ``aside`` is read in the same
    statement and returned, but is no part of the version (the logs' settle horizon).
    """
    fixed = [literal_column(sql, Text) for sql in _PARTS[view]]
    version = func.concat_ws(
        "/", cast(literal_column("model.xmin"), Text), cast(literal_column("projects.xmin"), Text), *fixed
    )
    row = session.execute(
        select(
            *model_facts_columns(caller),
            version.label("version"),
            (part if part is not None else literal_column("NULL::text")).label("extra"),
            (aside if aside is not None else literal_column("NULL::text")).label("aside"),
        )
        .select_from(Model)
        .join(Project, Project.id == Model.project_id)
        .where(Model.id == model_id)
    ).one_or_none()
    if row is None:
        return Versioned(None, "")
    facts = ModelFacts(row[0], row[1], row[2], row[3], project=ProjectFacts(*row[4:9]))
    extra = row.extra
    return Versioned(facts, f"{row.version}/{extra or ''}", extra, row.aside)


def list_version(visible: Select[Any], session: Session) -> str:
    """The version of a models list: every model it counts (its row and its project's), the owners'
    profiles, their jobs and rosters, the queue and the trust table (one query).

    ``visible`` is the list's query of the models it counts (:func:`core.listing.visible_models`).
    """
    counted = visible.with_only_columns(
        Model.id.label("id"),
        literal_column("model.xmin::text || '.' || projects.xmin::text").label("row_version"),
        Model.owner_id.label("owner_id"),
    ).cte("counted")
    parts = (
        "(SELECT count(*)::text || ':' || coalesce(md5(string_agg(c.id::text || '.' || c.row_version, ','"
        " ORDER BY c.id)), '') FROM counted AS c)",
        _rows("user_profile", "t.user_id IN (SELECT c.owner_id FROM counted AS c)", key="t.user_id::text"),
        _rows("fl_job", "t.model_id IN (SELECT c.id FROM counted AS c)"),
        _rows(
            "fl_job_trust",
            "t.fl_job_id IN (SELECT j.id FROM fl_job AS j JOIN counted AS c ON c.id = j.model_id)",
            key="t.fl_job_id::text || t.trust_id::text",
        ),
        _QUEUE,
        _TRUST_TABLE,
    )
    statement = select(func.concat_ws("/", *(literal_column(part, Text) for part in parts))).add_cte(counted)
    version: str = session.execute(statement).scalar_one()
    return version


def tag_of(view: str, caller: Caller, version: str, *params: object) -> str:
    """A strong entity tag: a digest of the view, its parameters, the caller's identity and roles
    (what the access rules and the answer may depend on) and the version."""
    who = f"{caller.user_id}:{int(caller.is_admin)}{int(caller.is_researcher)}"
    text = "\x1f".join([view, who, version, *(repr(param) for param in params)])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Checked:
    """A model the caller may read, with the tag of the view of it they asked for."""

    facts: ModelFacts
    tag: str
    #: The version the tag is made of, and what the view's own part read (see :class:`Versioned`).
    version: str
    extra: str | None = None
    aside: Any = None


def read_model_version(
    view: View,
    model_id: uuid.UUID,
    caller: Caller,
    session: Session,
    *params: object,
    part: ColumnElement[Any] | None = None,
    aside: ColumnElement[Any] | None = None,
    allow_deleted: bool = False,
) -> Checked:
    """The access check of a read (404 before 403, :func:`core.access.check_model`) and its tag, from
    one query; ``params`` are what the answer depends on besides the rows (its query parameters)."""
    found = model_version(view, model_id, caller, session, part=part, aside=aside)
    facts = check_model(model_id, found.facts, caller, Permission.READ, allow_deleted)
    return Checked(
        facts, tag_of(view, caller, found.version, *params), found.version, found.extra, found.aside
    )
