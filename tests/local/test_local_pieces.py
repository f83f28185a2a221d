"""The local stack's pieces: template reading, route matching, the dev identity, Lambda events,
schedules."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

from flip_local.api_gateway import BoundRoute, build_proxy_event, identity_claims, resource_matches
from flip_local.demo import DEMO_USERS
from flip_local.runtime import InvocationError
from flip_local.schedule import Schedule
from flip_local.template import ApiRoute, ScheduleSource, load_template, resolve


def test_route_patterns_capture_path_parameters_like_api_gateway() -> None:
    pattern = ApiRoute("GET", "/model/{modelId}/status").pattern()

    match = pattern.match("/model/abc-1/status")
    assert match is not None
    assert match.groupdict() == {"modelId": "abc-1"}
    assert pattern.match("/model/abc/def/status") is None
    assert ApiRoute("ANY", "/files/{proxy+}").pattern().match("/files/a/b/c").groupdict() == {
        "proxy": "a/b/c"
    }


def _template_routes() -> list[BoundRoute]:
    """Every Api event of template.yaml, bound to its function's logical id instead of a worker."""
    template = load_template(parameters={"Stage": "local"})
    return [
        BoundRoute(route, route.pattern(), cast(Any, spec.logical_id))
        for spec in template.functions.values()
        for route in spec.api_routes
    ]


def _served_by(method: str, path: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (bound.worker, match.groupdict())
        for bound, match in resource_matches(_template_routes(), path)
        if bound.route.method == method
    ]


def test_a_literal_path_wins_over_a_path_parameter_as_in_api_gateway() -> None:
    """GET /model/job-types is the job types, never GET /model/{modelId} with modelId="job-types"."""
    assert _served_by("GET", "/model/job-types") == [("GetJobTypesFunction", {})]
    model_id = str(uuid.uuid4())
    assert _served_by("GET", f"/model/{model_id}") == [("GetModelFunction", {"modelId": model_id})]
    assert _served_by("GET", "/models/projects") == [("ListProjectsFunction", {})]


def test_the_resource_is_chosen_before_the_method() -> None:
    """PUT /model/job-types finds the resource /model/job-types, which has no PUT: nothing serves it
    (405), rather than PUT /model/{modelId} editing a model called "job-types"."""
    assert _served_by("PUT", "/model/job-types") == []
    assert _served_by("DELETE", "/model/job-types") == []
    assert [route for route, _ in _served_by("PUT", f"/model/{uuid.uuid4()}")] == ["EditModelFunction"]


def test_intrinsics_resolve_against_parameters_and_resources() -> None:
    parameters = {"Stage": "local"}
    resources = {"Dlq": {"Ref": "http://q/dlq", "Arn": "arn:aws:sqs:eu-west-2:0:dlq"}}

    assert resolve({"Fn::Sub": "fl-logs-${Stage}"}, parameters, resources) == "fl-logs-local"
    assert resolve({"Ref": "Dlq"}, parameters, resources) == "http://q/dlq"
    assert resolve({"Fn::GetAtt": ["Dlq", "Arn"]}, parameters, resources) == "arn:aws:sqs:eu-west-2:0:dlq"
    assert resolve({"Fn::Sub": "${Dlq.Arn}/x"}, parameters, resources) == "arn:aws:sqs:eu-west-2:0:dlq/x"
    assert resolve({"a": [{"Ref": "Stage"}]}, parameters, resources) == {"a": ["local"]}


def test_the_template_gives_each_function_its_code_and_environment() -> None:
    template = load_template(parameters={"Stage": "local"})

    migrate = template.functions["MigrateFunction"]
    assert migrate.code_uri.name == "migrate"
    assert migrate.handler == "app.lambda_handler"
    assert migrate.timeout == 300
    environment = template.resolver({})(dict(migrate.environment))
    assert environment["POWERTOOLS_SERVICE_NAME"] == "flip-models-local"


def test_no_dev_identity_means_no_claims() -> None:
    assert identity_claims({}, DEMO_USERS) is None
    assert identity_claims({"x-dev-user": "  "}, DEMO_USERS) is None


def test_a_demo_role_or_a_uuid_becomes_cognito_claims() -> None:
    admin_id, _ = DEMO_USERS["admin"]
    assert identity_claims({"x-dev-user": "admin"}, DEMO_USERS) == {
        "sub": str(admin_id),
        "token_use": "id",
        "auth_time": identity_claims({"x-dev-user": "admin"}, DEMO_USERS)["auth_time"],  # type: ignore[index]
        "cognito:groups": "admin",
    }
    user = str(uuid.uuid4())
    claims = identity_claims({"x-dev-user": user, "x-dev-groups": "researcher, other"}, DEMO_USERS)
    assert claims is not None
    assert (claims["sub"], claims["cognito:groups"]) == (user, "researcher,other")


def test_proxy_event_has_what_the_handlers_read() -> None:
    route = ApiRoute("GET", "/model/{modelId}/logs")
    event = build_proxy_event(
        "GET",
        "/model/m1/logs?limit=5&cursor=abc",
        {"x-dev-user": "admin"},
        b"",
        route,
        {"modelId": "m1"},
        {"sub": "u"},
        "local",
    )

    assert event["resource"] == "/model/{modelId}/logs"
    assert event["pathParameters"] == {"modelId": "m1"}
    assert event["queryStringParameters"] == {"limit": "5", "cursor": "abc"}
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "u"}
    assert event["body"] is None


def test_sqs_sources_take_their_batch_size_from_the_template_parameters() -> None:
    template = load_template(parameters={"Stage": "local"})
    parameters = template.raw["Parameters"]

    sources = {
        source.queue: source.batch_size for spec in template.functions.values() for source in spec.sqs_sources
    }

    assert sources == {
        "FlLogsQueue": int(parameters["FlLogsBatchSize"]["Default"]),
        "FlMetricsQueue": int(parameters["FlMetricsBatchSize"]["Default"]),
        "FlStatusQueue": int(parameters["FlStatusBatchSize"]["Default"]),
    }


def test_schedule_events_are_read_with_their_expression() -> None:
    template = load_template(parameters={"Stage": "local", "StaleRunSweepRate": "rate(1 hour)"})

    schedules = {spec.logical_id: spec.schedules for spec in template.functions.values() if spec.schedules}

    assert schedules == {"FailStaleRunsFunction": (ScheduleSource("Sweep", "rate(1 hour)"),)}
    assert load_template().functions["FailStaleRunsFunction"].schedules[0].expression == "rate(5 minutes)"


class StubWorker:
    """Stands in for a function's worker process: records events, answers from a list."""

    def __init__(self, *answers: object) -> None:
        self.name, self.events, self.answers = "FailStaleRunsFunction", [], list(answers)

    def invoke(self, event: dict[str, Any]) -> object:
        self.events.append(event)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_schedule_fires_every_interval_with_a_scheduled_event_and_logs_what_was_done() -> None:
    spec = load_template().functions["FailStaleRunsFunction"]
    idle = {"candidates": 0, "failed": [], "errors": []}
    busy = {"candidates": 1, "failed": ["m-1"], "errors": []}
    worker = StubWorker(idle, busy, InvocationError("FailStaleRunsFunction: timed out after 300 s"))
    lines: list[str] = []
    schedule = Schedule(spec, spec.schedules[0], worker, 0.05, lines.append)  # type: ignore[arg-type]

    schedule.start()
    deadline = time.monotonic() + 10
    while len(worker.events) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    schedule.stop()
    schedule.join(5)

    assert len(worker.events) == 3
    assert {event["detail-type"] for event in worker.events} == {"Scheduled Event"}
    assert worker.events[0]["resources"] == [
        "arn:aws:events:eu-west-2:000000000000:rule/flip-models-local-FailStaleRunsFunctionSweep"
    ]
    assert lines == [
        'schedule → FailStaleRunsFunction: {"candidates": 1, "failed": ["m-1"], "errors": []}',
        "schedule → FailStaleRunsFunction: failed: FailStaleRunsFunction: timed out after 300 s",
    ]


def test_a_body_that_is_not_utf8_reaches_the_function_as_text() -> None:
    route = ApiRoute("POST", "/model")

    event = build_proxy_event("POST", "/model", {}, b'{"name": "\xff"}', route, {}, {"sub": "u"}, "local")

    assert event["body"] == '{"name": "\ufffd"}'
    assert event["isBase64Encoded"] is False
