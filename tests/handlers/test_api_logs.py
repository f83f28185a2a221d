"""GET /model/{id}/logs: rendered rows oldest first, keyset pages that visit every row exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def logs(caller: Person, model_id: uuid.UUID, **query: str) -> ApiResponse:
    return caller.call(
        "get_model_logs", "GET", "/model/{modelId}/logs", {"modelId": str(model_id)}, query=query or None
    )


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
    assert response.body == {
        "data": [
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
        ],
        "nextCursor": None,
    }


def test_no_rows_is_an_empty_last_page(given: Given) -> None:
    world = build_world(given)

    assert logs(world.admin, world.model.id).body == {"data": [], "nextCursor": None}


def walk(caller: Person, model_id: uuid.UUID, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    query: dict[str, Any] = {"limit": str(limit)}
    while True:
        response = logs(caller, model_id, **query)
        assert response.status == 200
        pages += 1
        assert len(response.body["data"]) <= limit
        seen += [row["id"] for row in response.body["data"]]
        cursor = response.body["nextCursor"]
        if cursor is None:
            return seen, pages
        query = {"limit": str(limit), "cursor": cursor}


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 11])
def test_pages_visit_every_row_exactly_once_in_order(limit: int, given: Given) -> None:
    """Rows sharing a timestamp are ordered by id, so no row is lost or repeated at a page boundary."""
    world = build_world(given)
    rows = [given.log(world.model, f"line {n}", at=T0 + timedelta(seconds=n // 3)) for n in range(10)]
    expected = [str(row.id) for row in sorted(rows, key=lambda r: (r.log_date, str(r.id)))]

    seen, pages = walk(world.admin, world.model.id, limit)

    assert seen == expected
    assert pages == -(-10 // limit)  # the last page is known to be last: no empty page after it


def test_the_default_limit_is_500(given: Given) -> None:
    world = build_world(given)
    for n in range(501):
        given.log(world.model, f"line {n}", at=T0 + timedelta(microseconds=n))

    first = logs(world.admin, world.model.id).body

    assert len(first["data"]) == 500
    assert first["nextCursor"] is not None
    rest = logs(world.admin, world.model.id, cursor=first["nextCursor"]).body
    assert [row["log"] for row in rest["data"]] == ["line 500"]
    assert rest["nextCursor"] is None


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
