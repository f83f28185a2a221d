"""A model's logs as people read them (SPEC §4): a keyset page, oldest first, each row rendered.

A page is sent as the JSON array the web app reads; it holds at most ``limit`` rows and ends early,
with a cursor to the next page, before its body reaches :data:`LOGS_PAGE_MAX_BYTES` as Lambda counts
it (escaped into the response's JSON, :mod:`flip_models.core.response_size`: Lambda answers at most
6 MB), however long the rows' texts are and whatever they hold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    Text,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import QueryableAttribute, Session

from flip_models.core.log_body import page_body
from flip_models.core.log_cursor import (
    START,
    LogCursor,
    decode_log_cursor,
    encode_log_cursor,
)
from flip_models.errors import InvalidError
from flip_models.store.tables import FLLogs, Trust

LOGS_DEFAULT_LIMIT = 1000
LOGS_MAX_LIMIT = 5000
#: A page's JSON body, escaped into Lambda's response, ends before this many bytes (SPEC §4: the body
#: under 5 MB, the whole response under 6 MB; ~4 MB for a logs page).
LOGS_PAGE_MAX_BYTES = 4_000_000
#: Shown in place of the end of a text cut to fit a page on its own (a row of megabytes of text).


@dataclass(frozen=True)
class LogsPage:
    """One page: its rows as the JSON array the API sends, how many, the cursor of the newer rows
    after it (always: a live feed has no last page) and of the older rows before it (None at the
    feed's start)."""

    body: str
    rows: int
    next_cursor: str
    prev_cursor: str | None


def settled_before(session: Session) -> datetime:
    """The time before which the feed holds every row it will ever hold (the *settle horizon*).

    The service dates each row it writes with the database's clock at the inserting statement, so a
    row that commits later than another may carry an earlier date: a reader that paged past that date
    would never see it. Every such row belongs to a transaction running now, and is dated at or after
    that transaction's start; so no row will ever appear before the earliest start of the writing
    transactions running now (read from ``pg_stat_activity``: the service's sessions share one role),
    or before now. Read in a statement of its own, before the page's: a transaction that commits
    between the two is then either in this answer or visible to the page's snapshot.
    """
    horizon: datetime = session.connection().execute(_HORIZON_SQL).scalar_one()
    return horizon


_HORIZON_SQL = text(
    "SELECT least(clock_timestamp(), min(xact_start)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
)


def _after(stored: str | None, row_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows after a position, in the feed's order (``log_date`` NULLs first, then ``id``)."""
    if stored is None:
        return or_(and_(FLLogs.log_date.is_(None), FLLogs.id > row_id), FLLogs.log_date.is_not(None))
    at = cast(literal(stored, Text), FLLogs.log_date.type)
    return tuple_(FLLogs.log_date, FLLogs.id) > tuple_(at, row_id)


def _before(stored: str | None, row_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows before a position, in the feed's order."""
    if stored is None:
        return and_(FLLogs.log_date.is_(None), FLLogs.id < row_id)
    at = cast(literal(stored, Text), FLLogs.log_date.type)
    return or_(FLLogs.log_date.is_(None), tuple_(FLLogs.log_date, FLLogs.id) < tuple_(at, row_id))


def _window(
    model_id: uuid.UUID,
    position: LogCursor | None,
    horizon: datetime | ColumnElement[Any] | None,
    limit: int,
    *columns: ColumnElement[Any] | QueryableAttribute[Any],
) -> Select[Any]:
    """The rows a page reads (``limit`` and one more, to know of older ones): ``columns`` and whether
    each is settled, in the order the page reads them along the feed's index."""
    settled = (
        or_(FLLogs.log_date.is_(None), FLLogs.log_date < horizon) if horizon is not None else literal(True)
    )
    statement = select(*columns, settled.label("settled")).where(FLLogs.model_id == model_id).limit(limit + 1)
    if position is not None and position.direction == "after":
        assert horizon is not None
        return statement.where(
            _after(position.stored, position.row_id),
            or_(FLLogs.log_date.is_(None), FLLogs.log_date < horizon),
        ).order_by(FLLogs.log_date.asc().nulls_first(), FLLogs.id)
    if position is not None:
        statement = statement.where(_before(position.stored, position.row_id))
    return statement.order_by(FLLogs.log_date.desc().nulls_last(), FLLogs.id.desc())


def settle_horizon() -> ColumnElement[datetime]:
    """:func:`settled_before` as a scalar subquery, for a statement that runs before the page's (the
    page's version, :mod:`core.versions`): what the horizon needs is that it is read before."""
    return _HORIZON_SQL.columns(column("horizon", DateTime(timezone=True))).scalar_subquery()


def logs_version(model_id: uuid.UUID, *, limit: int, cursor: str | None) -> ColumnElement[Any]:
    """The version of a page of logs (SQL, for :func:`core.versions.model_version`): an md5 of the
    ``(id, xmin, settled)`` of the rows the page reads, so its cost is the page's, not the feed's.
    The settle horizon is read in the same statement. A bad cursor or limit is an InvalidError, as
    for the page."""
    if not 1 <= limit <= LOGS_MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {LOGS_MAX_LIMIT}", field="limit")
    position = None if cursor is None else decode_log_cursor(cursor)
    horizon = settle_horizon() if position is None or position.direction == "after" else None
    window = _window(
        model_id,
        position,
        horizon,
        limit,
        FLLogs.id,
        literal_column("fl_logs.xmin::text").label("row_version"),
    ).subquery("page_rows")
    entry = cast(window.c.id, Text) + "." + window.c.row_version + "." + cast(window.c.settled, Text)
    return select(
        func.coalesce(func.md5(func.string_agg(entry, aggregate_order_by(literal(","), window.c.id))), "")
    ).scalar_subquery()


def get_logs_page(
    model_id: uuid.UUID,
    session: Session,
    *,
    limit: int = LOGS_DEFAULT_LIMIT,
    cursor: str | None = None,
    max_bytes: int = LOGS_PAGE_MAX_BYTES,
    horizon: datetime | None = None,
) -> LogsPage:
    """A page of the model's logs, oldest first, as a JSON array of at most ``max_bytes`` once
    escaped into Lambda's response (at least one row: one that does not fit on its own is sent with
    its texts cut), with the cursors of the pages before and after it (SPEC §4).

    Without ``cursor``: the newest ``limit`` rows (what the web app polls). ``after`` a position:
    the next ``limit`` *settled* rows (dated before :func:`settled_before`), so a reader that pages
    forward never passes a row that is still to commit; its next cursor is always given (an empty
    page: nothing newer yet). ``before`` a position: the ``limit`` rows before it. The feed's order is
    ``(log_date, id)``, NULL dates first; a page that reads older rows keeps its newest when the
    byte budget ends it early, one that reads newer rows keeps its oldest. ``horizon``: the settle
    horizon when an earlier statement of the session read it already (:func:`settle_horizon`).
    """
    if not 1 <= limit <= LOGS_MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {LOGS_MAX_LIMIT}", field="limit")
    position = None if cursor is None else decode_log_cursor(cursor)
    if position is None or position.direction == "after":
        horizon = horizon or settled_before(session)
    else:
        horizon = None
    forward = position is not None and position.direction == "after"
    statement = _window(
        model_id,
        position,
        horizon,
        limit,
        FLLogs.id,
        FLLogs.model_id,
        cast(FLLogs.log_date, Text).label("log_date"),  # as stored: every value reads and round-trips
        FLLogs.success,
        Trust.name,
        Trust.code,
        FLLogs.global_round,
        FLLogs.log,
        FLLogs.event_type,
        FLLogs.details,
    ).outerjoin(Trust, Trust.id == FLLogs.trust)
    # A Core query on the session's connection: plain column rows, no ORM loading machinery.
    rows = list(session.connection().execute(statement).all())
    page, more = rows[:limit], len(rows) > limit
    if not forward:
        page.reverse()  # read newest first, served oldest first
    body, kept = page_body(page, max_bytes, keep_newest=not forward)
    if forward:
        assert position is not None
        page = page[:kept]
        here = (position.stored, position.row_id)
        return LogsPage(
            body=body,
            rows=len(page),
            next_cursor=encode_log_cursor(LogCursor("after", *_at(page[-1]) if page else here)),
            prev_cursor=encode_log_cursor(LogCursor("before", *_at(page[0]) if page else here)),
        )
    older = more or kept < len(page)
    page = page[len(page) - kept :]
    prev_cursor = encode_log_cursor(LogCursor("before", *_at(page[0]))) if older and page else None
    if position is None:
        # The newest page: reading newer rows goes on from its last settled row (an unsettled one is
        # read again once settled), or from the row before the page when none of it is settled.
        settled = [row for row in page if row.settled]
        next_at = _at(settled[-1]) if settled else (_at(page[0]) if older else START)
    else:
        next_at = _at(page[-1]) if page else (position.stored, position.row_id)
    return LogsPage(
        body=body,
        rows=len(page),
        next_cursor=encode_log_cursor(LogCursor("after", *next_at)),
        prev_cursor=prev_cursor,
    )


def _at(row: Any) -> tuple[str | None, uuid.UUID]:
    """A row's position in the feed: its date as stored, and its id."""
    return row.log_date, row.id
