"""Pieces of the API queries that need no HTTP: cursors, list query normalisation, create rules."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Literal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.access import Caller, Permission, authorize_project
from flip_models.core.creation import create_model
from flip_models.core.listing import PAGE_SIZE_MAX, ModelFilter, parse_status_filter
from flip_models.core.log_cursor import LogCursor, decode_log_cursor, encode_log_cursor
from flip_models.core.logs import get_logs_page
from flip_models.core.schemas import CreateModelRequest
from flip_models.enums import JobStatus, ModelStatus
from flip_models.errors import InvalidError
from flip_models.store.tables import Model
from tests.builders import Given


@pytest.mark.parametrize(
    "stored",
    [
        "2026-05-01 12:00:00.123456",
        "2026-05-01 12:00:00+00",  # a timestamptz column (a later FLIP)
        "infinity",
        "-infinity",
        "0044-03-15 12:00:00 BC",
        "20000-01-01 00:00:00",
        None,  # no date
    ],
)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_cursor_round_trips_any_stored_date(
    stored: str | None, direction: Literal["after", "before"]
) -> None:
    position = LogCursor(direction, stored, uuid.uuid4())

    cursor = encode_log_cursor(position)

    assert "=" not in cursor
    assert decode_log_cursor(cursor) == position


def test_a_cursor_of_two_parts_from_before_the_feed_read_both_ways_reads_newer_rows() -> None:
    row_id = uuid.uuid4()
    earlier = base64.urlsafe_b64encode(json.dumps(["2026-05-01T12:00:00+00:00", str(row_id)]).encode())

    assert decode_log_cursor(earlier.decode().rstrip("=")) == LogCursor(
        "after", "2026-05-01T12:00:00+00:00", row_id
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "bm90IGpzb24",  # "not json"
        "WyIyMDI2LTA1LTAxVDEyOjAwOjAwIiwieCJd",  # bad id
        "WyIyMDI2LTA1LTAxVDEyOjAwOjAwIl0",  # one element
    ],
)
def test_a_foreign_cursor_is_invalid_on_cursor(cursor: str) -> None:
    with pytest.raises(InvalidError) as caught:
        decode_log_cursor(cursor)
    assert caught.value.field == "cursor"


@pytest.mark.parametrize(
    "date", ["2026-13-01 12:00:00", "2026-02-30 00:00:00", "0000-01-01 00:00:00", "tomorrow", "2026-05-01", 7]
)
def test_a_date_postgresql_would_refuse_is_rejected_before_it_reaches_sql(date: object) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([date, str(uuid.uuid4())]).encode()).decode().rstrip("=")

    with pytest.raises(InvalidError):
        decode_log_cursor(forged)


def test_limit_bounds_are_enforced_below_http_too(given: Given, session: Session) -> None:
    model = given.model()

    with pytest.raises(InvalidError):
        get_logs_page(model.id, session, limit=0)
    with pytest.raises(InvalidError):
        get_logs_page(model.id, session, limit=5001)


def test_status_filter_parsing() -> None:
    assert parse_status_filter(None) == frozenset()
    assert parse_status_filter(" ,") == frozenset()
    assert parse_status_filter("running,STOPPED,TRAINING_STARTED") == {
        ModelStatus.RUNNING,
        ModelStatus.STOPPED,
    }
    with pytest.raises(InvalidError) as caught:
        parse_status_filter("RUNNING,x" + "y" * 500)
    assert caught.value.field == "status"
    assert len(caught.value.message) < 100


def test_model_filter_normalises_paging_and_search() -> None:
    query = ModelFilter.from_query(0, 10_000, "  chest  ", None, None)

    assert (query.page, query.page_size, query.search) == (1, PAGE_SIZE_MAX, "chest")
    assert ModelFilter.from_query(None, None, "   ").search is None
    assert ModelFilter.from_query(3, 5).page == 3


def test_create_model_needs_an_approved_trust_and_writes_nothing_otherwise(
    given: Given, session: Session
) -> None:
    owner = uuid.uuid4()
    project_row = given.project(owner)
    admin = Caller.from_groups(uuid.uuid4(), ["admin"], admin_group="admin", researcher_group="researcher")
    facts = authorize_project(project_row.id, admin, Permission.CREATE, session)

    with pytest.raises(InvalidError):
        create_model(CreateModelRequest(name="x", project_id=project_row.id), facts, owner, session)

    assert session.scalar(select(func.count()).select_from(Model)) == 0


def test_a_page_of_models_costs_three_queries_whatever_its_size(given: Given, session: Session) -> None:
    """Counts (one grouped query), the page, and the page's rosters and queue positions: no query
    per row."""
    from sqlalchemy import event

    from flip_models.core.listing import list_models

    trusts = [given.trust("A"), given.trust("B")]
    project_row = given.project(trusts=trusts)
    for n in range(12):
        model = given.model(project_row, trusts=trusts, status=list(ModelStatus)[n % 8])
        given.job(model, status=JobStatus.QUEUED if n % 2 else JobStatus.COMPLETED, roster=trusts)
    admin = Caller.from_groups(uuid.uuid4(), ["admin"], admin_group="admin", researcher_group="researcher")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = list_models(admin, ModelFilter.from_query(page_size=10, status="PENDING,RUNNING"), session)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 3
    assert sum("GROUP BY model.status" in s for s in statements) == 1
    assert "fl_job_trust" in statements[2]
    assert result.total_records == 4
    assert sum(result.status_counts.values()) == 12
    assert all(len(row.trusts) == 2 for row in result.data)
    assert {row.queue_position is None for row in result.data} == {True, False}
