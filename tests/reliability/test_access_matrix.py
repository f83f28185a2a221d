"""The access matrix of SPEC §4: every route × every kind of caller, written out as a table.

Callers: ``admin`` (admin group), ``owner`` (owns the project), ``researcher`` (researcher group with
an access row, owns the model), ``colleague`` (researcher with access, not the model's owner),
``viewer`` (access row, no group), ``stranger`` (researcher, no access row) and ``none`` (no
identity). Rules: read = admin, project owner or access row; modify a model = admin, project owner,
or model owner who is a researcher with access; create = admin, project owner, or researcher with
access; delete a project's models = admin or project owner; list = anyone signed in.
"""

from __future__ import annotations

import pytest

from tests.api_events import api_event, invoke
from tests.builders import Given
from tests.handlers.api_routes import ALLOWED, ROUTES, Route
from tests.handlers.api_world import ROLES, assert_error, build_world
from tests.reliability.conftest import record

CALLERS = (*ROLES, "none")

# fmt: off
#: route → the status each caller gets, in the order of CALLERS.
MATRIX: dict[str, tuple[int, ...]] = {
    #                         admin owner researcher colleague viewer stranger none
    "create_model":          (201,  201,  201,       201,      403,   403,     401),
    "get_model":             (200,  200,  200,       200,      200,   403,     401),
    "edit_model":            (204,  204,  204,       403,      403,   403,     401),
    "delete_model":          (204,  204,  204,       403,      403,   403,     401),
    "delete_project_models": (200,  200,  403,       403,      403,   403,     401),
    "get_model_status":      (200,  200,  200,       200,      200,   403,     401),
    "update_model_status":   (200,  200,  200,       403,      403,   403,     401),
    "get_model_metrics":     (200,  200,  200,       200,      200,   403,     401),
    "get_model_logs":        (200,  200,  200,       200,      200,   403,     401),
    "get_model_trusts":      (200,  200,  200,       200,      200,   403,     401),
    "get_model_progress":    (200,  200,  200,       200,      200,   403,     401),
    "list_models":           (200,  200,  200,       200,      200,   200,     401),
    "list_projects":         (200,  200,  200,       200,      200,   200,     401),
    "get_job_types":         (200,  200,  200,       200,      200,   200,     401),
}
# fmt: on

CASES = [(route, caller) for route in ROUTES for caller in CALLERS]


def test_the_matrix_covers_every_route_and_agrees_with_the_rules() -> None:
    assert set(MATRIX) == {route.function for route in ROUTES}
    assert len(ROUTES) == 15  # the model page twice: GET /model/{id} and the web app's POST /step/...
    for route in ROUTES:
        expected = dict(zip(CALLERS, MATRIX[route.function], strict=True))
        assert expected["none"] == 401
        for role in ROLES:
            allowed = role in ALLOWED[route.permission]
            assert (expected[role] == route.success) is allowed, (route.function, role)
            assert allowed or expected[role] == 403


@pytest.mark.parametrize(("route", "caller"), CASES, ids=[f"{r.method} {r.resource}-{c}" for r, c in CASES])
def test_each_caller_gets_what_spec_section_4_says(route: Route, caller: str, given: Given) -> None:
    world = build_world(given)
    expected = MATRIX[route.function][CALLERS.index(caller)]

    if caller == "none":
        event = api_event(
            route.method,
            route.resource,
            route.path_parameters(world),
            query=route.query or None,
            body=route.body(world) if route.body else None,
        )
        response = invoke(route.function, event)
    else:
        response = route.call(world, world.people[caller])

    if expected < 400:
        assert response.status == expected, (response.status, response.raw_body)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    else:
        body = assert_error(response, expected)
        if expected == 403:
            assert "may not" in body["message"]
    record("access_matrix", cases=1, **{f"status_{expected}": 1})
