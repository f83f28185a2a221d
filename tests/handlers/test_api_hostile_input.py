"""Never a 500 for anything a client can send: text PostgreSQL cannot store, huge numbers, odd bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.api_events import api_event, invoke
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"search": "a\x00b"}, 400, "search"),
        ({"search": "a\ud800b"}, 422, "search"),
        ({"search": "s" * 201}, 422, "search"),
        ({"pageNumber": "1000000000000000000000"}, 422, "pageNumber"),
        ({"pageNumber": "1000001"}, 422, "pageNumber"),
        ({"pageSize": "1e9"}, 422, "pageSize"),
        ({"status": "RUNNING\x00"}, 400, "status"),
    ],
)
def test_list_query_that_cannot_reach_the_database(
    query: dict[str, str], status: int, field: str, given: Given
) -> None:
    world = build_world(given)

    assert_error(world.admin.call("list_models", "GET", "/models", query=query), status, field=field)


def test_the_last_allowed_page_number_answers(given: Given) -> None:
    world = build_world(given)

    response = world.admin.call("list_models", "GET", "/models", query={"pageNumber": "1000000"})

    assert response.status == 200
    assert response.body["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "a\ud800b"}, "name"),
        ({"name": "ok", "description": "\x00"}, "description"),
    ],
)
def test_create_and_edit_reject_text_postgresql_cannot_store(
    body: dict[str, Any], field: str, given: Given
) -> None:
    world = build_world(given)

    created = world.admin.call(
        "create_model", "POST", "/model", body=body | {"projectId": str(world.project.id)}
    )
    edited = world.admin.call(
        "edit_model", "PUT", "/model/{modelId}", {"modelId": str(world.model.id)}, body=body
    )

    assert_error(created, 422, field=field)
    assert_error(edited, 422, field=field)


def _cursor(parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(["0001-01-01T00:00:00+14:00", "12345678-1234-1234-1234-123456789012"]),
        _cursor({"a": 1, "b": 2}),
        _cursor([1, 2]),
        _cursor([[[[[]]]]]),
        "x" * 512,
    ],
)
def test_forged_cursors_are_400(cursor: str, given: Given) -> None:
    world = build_world(given)

    response = world.admin.call(
        "get_model_logs",
        "GET",
        "/model/{modelId}/logs",
        {"modelId": str(world.model.id)},
        query={"cursor": cursor},
    )

    assert_error(response, 400, field="cursor")


def test_a_cursor_longer_than_any_issued_is_422(given: Given) -> None:
    world = build_world(given)

    response = world.admin.call(
        "get_model_logs",
        "GET",
        "/model/{modelId}/logs",
        {"modelId": str(world.model.id)},
        query={"cursor": "x" * 513},
    )

    assert_error(response, 422, field="cursor")


def test_a_body_that_is_not_json_by_content_type_is_415(given: Given) -> None:
    world = build_world(given)
    event = api_event("POST", "/model", user_id=world.admin.user_id, groups=["admin"], raw_body="name=x")
    event["headers"]["Content-Type"] = "text/plain"
    event["multiValueHeaders"]["Content-Type"] = ["text/plain"]

    assert_error(invoke("create_model", event), 415)


@pytest.mark.parametrize("claims", [None, "oops", [], {"sub": None}, {"sub": 42}])
def test_malformed_claims_are_401(claims: Any, given: Given) -> None:
    world = build_world(given)
    event = api_event("GET", "/models", user_id=world.admin.user_id, groups=["admin"])
    event["requestContext"]["authorizer"]["claims"] = claims

    assert_error(invoke("list_models", event), 401)


def test_an_odd_groups_claim_means_no_groups(given: Given) -> None:
    world = build_world(given)
    event = api_event(
        "GET", "/model/{modelId}", {"modelId": str(world.model.id)}, user_id=world.stranger.user_id
    )
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = 42

    assert_error(invoke("get_model", event), 403)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_body_is_a_clear_4xx_not_a_500(depth: int, given: Given) -> None:
    """Found from outside: a body nested too deep for Python's json raised RecursionError → 500."""
    world = build_world(given)
    nested = '{"name": ' + "[" * depth + "1" + "]" * depth + "}"

    created = world.admin.call("create_model", "POST", "/model", raw_body=nested)
    edited = world.admin.call(
        "edit_model", "PUT", "/model/{modelId}", {"modelId": str(world.model.id)}, raw_body=nested
    )

    for response in (created, edited):
        body = assert_error(response, 422)
        # Too deep to parse → the body itself is named; deep but parseable (Python 3.12 parses
        # 1,000 levels, 3.13 does not) → the field that holds the nesting is named.
        named = [body.get("field")] + [".".join(map(str, d["loc"])) for d in body.get("detail", [])]
        assert "body" in named or "body.name" in named, body


@pytest.mark.parametrize(
    "name",
    [
        "Pneumonia\u202eTSET",  # right-to-left override: shows as "PneumoniaTEST"
        "Pneumonia\u200bmodel",  # zero-width space
        "\u2066Pneumonia\u2069",  # isolates
        "Pneumonia\ufeff",  # zero-width no-break space (byte-order mark)
    ],
)
def test_a_model_name_with_invisible_format_characters_is_refused(name: str, given: Given) -> None:
    """Format characters (Unicode category Cf) make a name display as another: refused, naming it."""
    world = build_world(given)

    created = world.admin.call(
        "create_model", "POST", "/model", body={"name": name, "projectId": str(world.project.id)}
    )
    edited = world.admin.call(
        "edit_model", "PUT", "/model/{modelId}", {"modelId": str(world.model.id)}, body={"name": name}
    )

    body = assert_error(created, 422, field="name")
    assert "format characters" in json.dumps(body)
    assert_error(edited, 422, field="name")


def test_a_description_may_carry_emoji_sequences(given: Given) -> None:
    """A zero-width joiner (Cf) is part of emoji such as 👩‍🔬: a description keeps it."""
    world = build_world(given)

    response = world.admin.call(
        "edit_model",
        "PUT",
        "/model/{modelId}",
        {"modelId": str(world.model.id)},
        body={"name": "Lab model", "description": "Built by 👩\u200d🔬"},
    )

    assert response.status == 204
