"""GET /model/{id}/logs: a JSON array of rendered rows, oldest first; the next page in the ``Link`` and
``X-Next-Cursor`` headers; pages that visit every row exactly once and stay under Lambda's limit."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from flip_models.core.logs import LOGS_PAGE_MAX_BYTES
from flip_models.core.transitions import insert_log
from flip_models.enums import ModelStatus
from tests.api_events import ORIGIN, ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world
from tests.handlers.conftest import DeadLetterQueue
from tests.handlers.conftest import invoke as invoke_sqs
from tests.sqs_events import bodies_event, failed_ids

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def logs(caller: Person, model_id: uuid.UUID, **query: str) -> ApiResponse:
    return caller.call(
        "get_model_logs", "GET", "/model/{modelId}/logs", {"modelId": str(model_id)}, query=query or None
    )


def links(response: ApiResponse) -> dict[str, str]:
    """The ``Link`` header's targets by ``rel``, each checked against its ``X-…-Cursor`` header."""
    found: dict[str, str] = {}
    for part in filter(None, (response.headers.get("Link") or "").split(", ")):
        match = re.fullmatch(r'<([^>]+)>; rel="(prev|next)"', part)
        assert match, part
        target, rel = match.groups()
        header = "X-Prev-Cursor" if rel == "prev" else "X-Next-Cursor"
        assert parse_qs(urlsplit(target).query)["cursor"] == [response.headers[header]]
        found[rel] = target
    cursors = {"prev": "X-Prev-Cursor", "next": "X-Next-Cursor"}
    assert set(found) == {rel for rel, header in cursors.items() if header in response.headers}
    return found


def follow(caller: Person, model_id: uuid.UUID, link: str) -> ApiResponse:
    url = urlsplit(link)
    assert url.path == f"/dev/model/{model_id}/logs"  # the path the client called, with the stage
    return logs(caller, model_id, **{name: values[0] for name, values in parse_qs(url.query).items()})


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
    assert set(links(response)) == {"next"}  # nothing older; newer rows: poll the next link


def test_no_rows_is_an_empty_array_with_only_a_link_to_newer_rows(given: Given) -> None:
    world = build_world(given)

    response = logs(world.admin, world.model.id)

    assert response.body == []
    assert set(links(response)) == {"next"}
    assert follow(world.admin, world.model.id, links(response)["next"]).body == []


def walk_back(caller: Person, model_id: uuid.UUID, limit: int) -> tuple[list[str], str]:
    """From the newest page, follow ``rel="prev"`` to the oldest; the rows in order, and the oldest
    page's link to newer rows."""
    response = logs(caller, model_id, limit=str(limit))
    pages: list[list[str]] = []
    while True:
        assert response.status == 200
        assert len(response.body) <= limit
        pages.append([row["id"] for row in response.body])
        around = links(response)
        if "prev" not in around:
            return [row for page in reversed(pages) for row in page], around["next"]
        response = follow(caller, model_id, around["prev"])


def walk_forward(caller: Person, model_id: uuid.UUID, link: str) -> list[str]:
    """Follow ``rel="next"`` until a page comes back empty (nothing newer yet)."""
    seen: list[str] = []
    while True:
        response = follow(caller, model_id, link)
        assert response.status == 200
        if not response.body:
            return seen
        seen += [row["id"] for row in response.body]
        link = links(response)["next"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 11])
def test_pages_visit_every_row_exactly_once_in_order_both_ways(limit: int, given: Given) -> None:
    """Rows sharing a timestamp are ordered by id, so no row is lost or repeated at a page boundary."""
    world = build_world(given)
    rows = [given.log(world.model, f"line {n}", at=T0 + timedelta(seconds=n // 3)) for n in range(10)]
    expected = [str(row.id) for row in sorted(rows, key=lambda r: (r.log_date, str(r.id)))]

    back, oldest_next = walk_back(world.admin, world.model.id, limit)
    oldest = logs(world.admin, world.model.id, limit=str(limit))
    while "prev" in links(oldest):
        oldest = follow(world.admin, world.model.id, links(oldest)["prev"])
    forward = [row["id"] for row in oldest.body] + walk_forward(world.admin, world.model.id, oldest_next)

    assert back == expected
    assert forward == expected


def test_without_a_cursor_the_newest_rows_as_the_web_app_polls_it(given: Given) -> None:
    """The web app calls without a query string, every 5 s, and shows the array it gets: the newest
    1,000 rows (oldest first), so a run of any length shows its latest line."""
    world = build_world(given)
    for n in range(1001):
        given.log(world.model, f"line {n}", at=T0 + timedelta(microseconds=n))

    newest = logs(world.admin, world.model.id)

    assert [row["log"] for row in (newest.body[0], newest.body[-1])] == ["line 1", "line 1000"]
    assert len(newest.body) == 1000
    assert parse_qs(urlsplit(links(newest)["prev"]).query)["limit"] == ["1000"]
    older = follow(world.admin, world.model.id, links(newest)["prev"])
    assert [row["log"] for row in older.body] == ["line 0"]
    assert "prev" not in links(older)
    given.log(world.model, "line 1001", at=T0 + timedelta(seconds=1))
    assert [row["log"] for row in follow(world.admin, world.model.id, links(newest)["next"]).body] == [
        "line 1001"
    ]


def test_a_message_sent_long_ago_and_delivered_now_is_seen_by_a_reader_paging_forward(
    given: Given, logs_dlq: DeadLetterQueue
) -> None:
    """Issue 22 item 6: rows are dated when the service writes them (the database's clock), so a
    late message lands after the rows a reader has passed, not behind its cursor."""
    world = build_world(given, status=ModelStatus.RUNNING)
    trust = world.trusts[0]
    given.slot("Trust_1", trust)
    reader = links(logs(world.viewer, world.model.id))["next"]
    sent_an_hour_ago = bodies_event(
        [{"model_id": str(world.model.id), "fl_client_name": "Trust_1", "log": "late"}]
    )
    for record in sent_an_hour_ago["Records"]:
        record["attributes"]["SentTimestamp"] = str(int((time.time() - 3600) * 1000))

    assert failed_ids(invoke_sqs("fl_logs", sent_an_hour_ago)) == []

    late = follow(world.viewer, world.model.id, reader)
    assert [row["log"] for row in late.body] == ["late"]


def test_a_reader_paging_forward_never_passes_a_row_that_is_still_to_commit(
    given: Given, session_factory: Any
) -> None:
    """Two writers: the first dates its row, then the second writes and commits a later-dated row
    before the first commits. A reader paging forward meanwhile stops before both (the settle
    horizon: the earliest writing transaction still running), and then sees both, in order."""
    world = build_world(given)
    reader = links(logs(world.viewer, world.model.id))["next"]
    slow = session_factory()
    insert_log(slow, model_id=world.model.id, log="first written, committed last", success=True)
    with session_factory() as quick:
        insert_log(quick, model_id=world.model.id, log="written second, committed first", success=True)
        quick.commit()

    meanwhile = follow(world.viewer, world.model.id, reader)
    slow.commit()
    slow.close()
    after = follow(world.viewer, world.model.id, links(meanwhile)["next"])

    assert meanwhile.body == []
    assert [row["log"] for row in after.body] == [
        "first written, committed last",
        "written second, committed first",
    ]
    newest = logs(world.viewer, world.model.id)
    assert len(newest.body) == 2


def test_browsers_may_read_the_paging_headers(given: Given) -> None:
    world = build_world(given)
    for n in range(3):
        given.log(world.model, f"line {n}", at=T0 + timedelta(seconds=n))

    response = logs(world.admin, world.model.id, limit="2")

    assert response.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    exposed = {name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Link", "X-Next-Cursor", "X-Prev-Cursor"} <= exposed


def test_a_page_of_long_texts_ends_before_4_mb_and_the_rest_follows(given: Given) -> None:
    """5,000 rows of 2 KiB tracebacks are ~11 MB: the page ends early, with its cursors, under 4 MB."""
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
    response = logs(world.admin, world.model.id, limit="5000")
    newest_first_page = response.body
    while True:
        assert response.status == 200
        sizes.append(len(response.raw_body.encode()))
        seen += len(response.body)
        if "prev" not in links(response):
            break
        response = follow(world.admin, world.model.id, links(response)["prev"])

    assert newest_first_page[-1]["log"].endswith("x5000")  # a page of older rows keeps its newest
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
