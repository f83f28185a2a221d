"""Rules every route obeys (SPEC §4): 401 for a bad identity, bad UUID, 404, 503, no internals leaked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from flip_models.core.access import ProjectFacts
from flip_models.store import db
from tests.api_events import api_event, invoke
from tests.builders import Given
from tests.handlers.api_routes import MODEL_ROUTES, ROUTES, Route
from tests.handlers.api_world import assert_error, build_world

# Every route × every caller (six roles and no identity): tests/reliability/test_access_matrix.py.


def test_a_stranger_lists_nothing_of_the_project(given: Given) -> None:
    world = build_world(given)

    response = world.stranger.call("list_models", "GET", "/models")

    assert response.status == 200
    assert response.body["data"] == []
    assert response.body["totalRecords"] == 0


@pytest.mark.parametrize("sub", ["", "not-a-uuid", "12345"])
def test_a_sub_that_is_not_a_uuid_is_401(sub: str, given: Given) -> None:
    world = build_world(given)
    event = api_event("GET", "/model/{modelId}", {"modelId": str(world.model.id)}, user_id="x")
    event["requestContext"]["authorizer"]["claims"]["sub"] = sub

    assert_error(invoke("get_model", event), 401)


@pytest.mark.parametrize("route", MODEL_ROUTES, ids=str)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1234", "6f1c1d2e-8a57-4c1e-9d43-2f0b6a7c9e1"])
def test_a_bad_model_id_is_422_naming_it(route: Route, bad_id: str, given: Given) -> None:
    world = build_world(given)

    body = assert_error(route.call(world, model_id=bad_id), 422, field="modelId")

    assert body["detail"][0]["loc"] == ["path", "modelId"]
    assert bad_id not in (body["message"] + str(body["detail"]))


def test_a_bad_project_id_is_422_naming_it(given: Given) -> None:
    world = build_world(given)

    response = world.admin.call(
        "delete_project_models", "DELETE", "/project/{projectId}/models", {"projectId": "x"}
    )

    assert_error(response, 422, field="projectId")


@pytest.mark.parametrize("route", MODEL_ROUTES, ids=str)
def test_a_missing_model_is_404(route: Route, given: Given) -> None:
    world = build_world(given)

    assert_error(route.call(world, model_id=uuid.uuid4()), 404)


@pytest.mark.parametrize("route", MODEL_ROUTES, ids=str)
def test_a_missing_model_is_404_for_a_stranger_too(route: Route, given: Given) -> None:
    world = build_world(given)

    assert_error(route.call(world, world.stranger, model_id=uuid.uuid4()), 404)


@pytest.mark.parametrize(
    ("route", "status"),
    [
        (route, {"get_model_status": 200, "edit_model": 400, "delete_model": 409}.get(route.function, 404))
        for route in MODEL_ROUTES
    ],
    ids=str,
)
def test_a_deleted_model(route: Route, status: int, given: Given) -> None:
    """404, except: its status still answers, an edit is a 400 and a second delete a 409 (SPEC §4)."""
    world = build_world(given)
    deleted = world.another_model(deleted=True)

    response = route.call(world, model_id=deleted.id)

    if status == 200:
        assert response.status == 200
        assert response.body == {"status": "PENDING", "deleted": True}
    else:
        assert_error(response, status)


@pytest.mark.parametrize("route", MODEL_ROUTES, ids=str)
def test_a_model_of_a_deleted_project_is_404(route: Route, given: Given) -> None:
    world = build_world(given)
    gone = given.project(world.owner.user_id, trusts=world.trusts, deleted=True)
    orphan = given.model(gone, trusts=world.trusts)

    response = route.call(world, model_id=orphan.id)

    assert_error(response, 404)


@pytest.fixture
def database_down(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The container's engine points at a port where no database listens."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    monkeypatch.setenv("DB_TIMEOUT_SECONDS", "2")
    db.reset_engine()
    yield
    monkeypatch.undo()
    db.reset_engine()


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_database_unreachable_is_503_json(route: Route, given: Given, database_down: None) -> None:
    world = build_world(given)

    response = route.call(world)

    body = assert_error(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "127.0.0.1" not in body["message"]


def test_an_unexpected_error_is_a_bare_500(given: Given, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world(given)

    def explode(*args: object, **kwargs: object) -> ProjectFacts:
        raise RuntimeError("SELECT secret FROM pg8000 Traceback")

    monkeypatch.setattr("flip_models.core.versions.check_model", explode)

    response = world.admin.call("get_model", "GET", "/model/{modelId}", {"modelId": str(world.model.id)})

    body = assert_error(response, 500)
    assert "secret" not in response.raw_body
    assert body == {"statusCode": 500, "message": "internal error; it has been logged"}


def test_cors_headers_are_on_every_response_even_without_an_origin(given: Given) -> None:
    world = build_world(given)
    event = api_event("GET", "/models", user_id=world.admin.user_id, groups=["admin"])
    del event["headers"]["Origin"]
    del event["multiValueHeaders"]["Origin"]

    response = invoke("list_models", event)

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]

    no_identity = api_event("GET", "/models")
    del no_identity["headers"]["Origin"]
    del no_identity["multiValueHeaders"]["Origin"]
    assert invoke("list_models", no_identity).headers["Access-Control-Allow-Origin"] == "*"
