"""Conditional reads (issue 26): every polled GET route tags its answer (``ETag``, ``Cache-Control:
no-cache``) and answers ``304`` without a body to a request naming the current tag, with the headers
its ``200`` has; a change, another caller or a lost access never gets the old answer. The web app's
``POST /step/model/{id}`` is never a ``304``: a warm container answers it again from the page it
built, after the tag's query (the access check included) alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from flip_models.enums import ModelStatus
from flip_models.store import db
from tests.api_events import ApiResponse, Person, api_event, invoke
from tests.builders import Given
from tests.handlers.api_routes import ROUTES, Route
from tests.handlers.api_world import World, assert_error, build_world
from tests.lambda_support import load_function

POLLED = [
    route
    for route in ROUTES
    if route.method == "GET"
    and route.function
    in {
        "get_model",
        "get_model_logs",
        "get_model_metrics",
        "get_model_progress",
        "get_model_status",
        "get_model_trusts",
        "list_models",
    }
]
#: Headers that describe a page's content (its cursors, what it left out): a 304 leaves the
#: browser's stored ones as they are (RFC 9111 §4.3.4), so it need not repeat them.
PAGE_HEADERS = {"Link", "X-Next-Cursor", "X-Prev-Cursor", "X-Series-Omitted", "X-Points-Omitted"}


def call(
    route: Route, world: World, caller: Person | None = None, *, if_none_match: str | None = None
) -> ApiResponse:
    caller = caller or world.admin
    event_ = api_event(
        route.method,
        route.resource,
        route.path_parameters(world),
        user_id=caller.user_id,
        groups=list(caller.groups),
        query=route.query or None,
    )
    if if_none_match is not None:
        event_["headers"]["If-None-Match"] = if_none_match
        event_["multiValueHeaders"]["If-None-Match"] = [if_none_match]
    return invoke(route.function, event_)


@pytest.fixture
def world(given: Given) -> World:
    world = build_world(given, status=ModelStatus.RUNNING)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    given.job(world.model, roster=world.trusts, started=start)
    for n in range(3):
        given.log(world.model, f"line {n}", at=start + timedelta(minutes=n), trust=world.trusts[n % 2])
        given.metric(world.model, world.trusts[0], label="loss", x_value=n, result=1 / (n + 1))
    given.uploaded_file(world.model, "train.py")
    return world


@pytest.mark.parametrize("route", POLLED, ids=str)
def test_a_second_identical_poll_is_a_304_with_the_200s_headers(route: Route, world: World) -> None:
    first = call(route, world)
    tag = first.headers["ETag"]

    again = call(route, world, if_none_match=tag)

    assert first.status == 200
    assert tag.startswith('"')  # strong
    assert tag.endswith('"')
    assert len(tag) == 34
    assert first.headers["Cache-Control"] == "no-cache"
    assert again.status == 304, again.raw_body
    assert not again.raw_body
    expected = {name: value for name, value in first.headers.items() if name not in PAGE_HEADERS}
    assert again.headers == expected
    assert again.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("route", POLLED, ids=str)
def test_the_same_answer_has_the_same_tag_and_a_changed_one_another(
    route: Route, world: World, session: Session
) -> None:
    first = call(route, world).headers["ETag"]
    same = call(route, world).headers["ETag"]
    session.execute(text("UPDATE model SET name = name || ' (2)' WHERE id = :id"), {"id": world.model.id})
    session.commit()

    changed = call(route, world, if_none_match=first)

    assert same == first
    assert changed.status == 200
    assert changed.headers["ETag"] != first


@pytest.mark.parametrize("route", POLLED, ids=str)
def test_a_tag_never_skips_the_access_check(route: Route, world: World, session: Session) -> None:
    viewer = call(route, world, world.viewer)
    admin = call(route, world, world.admin)
    session.execute(
        text("DELETE FROM project_user_access WHERE user_id = :user"), {"user": world.viewer.user_id}
    )
    session.commit()

    after = call(route, world, world.viewer, if_none_match=viewer.headers["ETag"])

    assert viewer.headers["ETag"] != admin.headers["ETag"]  # each caller's answer has its own tag
    if route.function == "list_models":
        assert after.status == 200  # the list is still an answer, without the project's models
        assert after.body["data"] == []
    else:
        assert_error(after, 403)


@pytest.mark.parametrize("header", ["W/{tag}", '"x", {tag}', "*"])
def test_if_none_match_as_browsers_send_it(header: str, world: World) -> None:
    route = next(route for route in POLLED if route.function == "get_model_status")
    tag = call(route, world).headers["ETag"]

    assert call(route, world, if_none_match=header.format(tag=tag)).status == 304
    assert call(route, world, if_none_match='"another"').status == 200


def test_a_missing_model_is_404_whatever_the_tag(world: World) -> None:
    route = next(route for route in POLLED if route.function == "get_model")
    event_ = api_event(
        "GET", route.resource, {"modelId": str(uuid.uuid4())}, user_id=world.admin.user_id, groups=["admin"]
    )
    event_["headers"]["If-None-Match"] = "*"

    assert_error(invoke("get_model", event_), 404)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements the handlers' engine runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_an_unchanged_model_page_post_costs_the_tag_query_alone(
    world: World, statements: list[str], session: Session
) -> None:
    load_function("get_model").pages.clear()
    route = next(route for route in ROUTES if route.resource == "/step/model/{modelId}")
    first = call(route, world, world.viewer)
    statements.clear()

    again = call(route, world, world.viewer, if_none_match=first.headers["ETag"])

    assert again.status == 200  # a POST is never a 304
    assert again.raw_body == first.raw_body
    assert [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))] == statements[:1]
    assert len([s for s in statements if "xmin" in s]) == 1
    reads = [s for s in statements if not s.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(reads) == 1, reads

    session.execute(text("UPDATE model SET name = 'renamed' WHERE id = :id"), {"id": world.model.id})
    session.commit()
    changed = call(route, world, world.viewer)
    stranger = call(route, world, world.stranger)

    assert changed.body["modelName"] == "renamed"
    assert_error(stranger, 403)  # never another caller's page


def test_the_warm_pages_are_bounded() -> None:
    from flip_models.api.warm import WarmAnswers

    pages: WarmAnswers[int] = WarmAnswers(size=3)
    for n in range(10):
        pages.put(str(n), n)
    pages.get("7")
    pages.put("10", 10)

    assert len(pages) == 3
    assert pages.get("7") == 7
    assert pages.get("8") is None
