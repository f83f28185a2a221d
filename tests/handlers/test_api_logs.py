"""GET /model/{id}/logs: a JSON array of rendered rows, oldest first; the next page in the ``Link`` and
``X-Next-Cursor`` headers; pages that visit every row exactly once and stay under Lambda's limit."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from flip_models.core.logs import LOGS_PAGE_MAX_BYTES
from tests.api_events import ORIGIN, ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def logs(caller: Person, model_id: uuid.UUID, **query: str) -> ApiResponse:
    return caller.call(
        "get_model_logs", "GET", "/model/{modelId}/logs", {"modelId": str(model_id)}, query=query or None
    )


def next_link(response: ApiResponse) -> str | None:
    """The ``rel="next"`` target of the ``Link`` header, checked against ``X-Next-Cursor``."""
    link = response.headers.get("Link")
    cursor = response.headers.get("X-Next-Cursor")
    if link is None:
        assert cursor is None
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    assert parse_qs(urlsplit(match.group(1)).query)["cursor"] == [cursor]
    return match.group(1)


def test_rows_field_by_field_oldest_first_and_rendered(given: Given) -> None:
    world = build_world(given)
    gstt = world.trusts[0]
    late = given.log(world.model, "Late hub line", at=T0 + timedelta(minutes=2), success=False)
    event = given.log(
        world.model,
        at=T0 + timedelta(minutes=1),
        trust=gstt,
        event_type="CLIENT_RESULT_RECEIVED",
        global_round=3,
        details={"size_bytes": 2_411_725},
    )
    first = given.log(world.model, "Hub line", at=T0)
    other_model = world.another_model()
    given.log(other_model, "Not this model's", at=T0)

    response = logs(world.viewer, world.model.id)

    assert response.status == 200
    assert response.body == [
        {
            "id": str(first.id),
            "modelId": str(world.model.id),
            "logDate": "2026-05-01T12:00:00Z",
            "success": True,
            "trustName": None,
            "trustCode": None,
            "globalRound": None,
            "log": "Hub line",
        },
        {
            "id": str(event.id),
            "modelId": str(world.model.id),
            "logDate": "2026-05-01T12:01:00Z",
            "success": True,
            "trustName": gstt.name,
            "trustCode": gstt.code,
            "globalRound": 3,
            "log": "Round 3 weights uploaded · 2.3 MB",
        },
        {
            "id": str(late.id),
            "modelId": str(world.model.id),
            "logDate": "2026-05-01T12:02:00Z",
            "success": False,
            "trustName": None,
            "trustCode": None,
            "globalRound": None,
            "log": "Late hub line",
        },
    ]
    assert next_link(response) is None


def test_no_rows_is_an_empty_array_without_a_next_page(given: Given) -> None:
    world = build_world(given)

    response = logs(world.admin, world.model.id)

    assert response.body == []
    assert next_link(response) is None


def walk(caller: Person, model_id: uuid.UUID, limit: int) -> tuple[list[str], int]:
    """Follow the ``Link`` headers from the first page to the last, as a client would."""
    seen: list[str] = []
    pages = 0
    query: dict[str, Any] = {"limit": str(limit)}
    while True:
        response = logs(caller, model_id, **query)
        assert response.status == 200
        pages += 1
        assert len(response.body) <= limit
        seen += [row["id"] for row in response.body]
        link = next_link(response)
        if link is None:
            return seen, pages
        url = urlsplit(link)
        assert url.path == f"/dev/model/{model_id}/logs"  # the path the client called, with the stage
        query = {name: values[0] for name, values in parse_qs(url.query).items()}


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 11])
def test_pages_visit_every_row_exactly_once_in_order(limit: int, given: Given) -> None:
    """Rows sharing a timestamp are ordered by id, so no row is lost or repeated at a page boundary."""
    world = build_world(given)
    rows = [given.log(world.model, f"line {n}", at=T0 + timedelta(seconds=n // 3)) for n in range(10)]
    expected = [str(row.id) for row in sorted(rows, key=lambda r: (r.log_date, str(r.id)))]

    seen, pages = walk(world.admin, world.model.id, limit)

    assert seen == expected
    assert pages == -(-10 // limit)  # the last page is known to be last: no empty page after it


def test_the_default_limit_is_1000_as_the_web_app_calls_it(given: Given) -> None:
    """The web app calls without a query string and shows the array it gets."""
    world = build_world(given)
    for n in range(1001):
        given.log(world.model, f"line {n}", at=T0 + timedelta(microseconds=n))

    first = logs(world.admin, world.model.id)

    assert len(first.body) == 1000
    link = next_link(first)
    assert link is not None
    assert parse_qs(urlsplit(link).query)["limit"] == ["1000"]
    rest = logs(world.admin, world.model.id, cursor=first.headers["X-Next-Cursor"])
    assert [row["log"] for row in rest.body] == ["line 1000"]
    assert next_link(rest) is None


def test_browsers_may_read_the_paging_headers(given: Given) -> None:
    world = build_world(given)
    for n in range(3):
        given.log(world.model, f"line {n}", at=T0 + timedelta(seconds=n))

    response = logs(world.admin, world.model.id, limit="2")

    assert response.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    exposed = {name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Link", "X-Next-Cursor"} <= exposed


def test_a_page_of_long_texts_ends_before_4_mb_and_the_rest_follows(given: Given) -> None:
    """5,000 rows of 2 KiB tracebacks are ~11 MB: the page ends early, with its cursor, under 4 MB."""
    world = build_world(given)
    traceback = "Traceback (most recent call last):\n" + "x" * 2048
    given.session.execute(
        text(
            "INSERT INTO fl_logs (id, model_id, log_date, success, log) "
            "SELECT gen_random_uuid(), :model, CAST(:t0 AS timestamptz) + n * interval '1 millisecond', "
            "false, :text || n "
            "FROM generate_series(1, 5000) AS n"
        ),
        {"model": world.model.id, "t0": T0, "text": traceback},
    )
    given.session.commit()

    seen, sizes = 0, []
    query = {"limit": "5000"}
    while True:
        response = logs(world.admin, world.model.id, **query)
        assert response.status == 200
        sizes.append(len(response.raw_body.encode()))
        seen += len(response.body)
        link = next_link(response)
        if link is None:
            break
        query = {"limit": "5000", "cursor": response.headers["X-Next-Cursor"]}

    assert seen == 5000
    assert len(sizes) >= 3
    assert max(sizes) <= LOGS_PAGE_MAX_BYTES


@pytest.mark.parametrize("limit", ["0", "-1", "5001", "many"])
def test_a_limit_out_of_range_is_422(limit: str, given: Given) -> None:
    world = build_world(given)

    assert_error(logs(world.admin, world.model.id, limit=limit), 422, field="limit")


def test_a_limit_of_5000_is_accepted(given: Given) -> None:
    world = build_world(given)

    assert logs(world.admin, world.model.id, limit="5000").status == 200


@pytest.mark.parametrize("cursor", ["garbage", "WyJub3QgYSBkYXRlIiwiMSJd", "e30", "!!!!"])
def test_a_cursor_this_api_did_not_issue_is_400(cursor: str, given: Given) -> None:
    world = build_world(given)

    assert_error(logs(world.admin, world.model.id, cursor=cursor), 400, field="cursor")
