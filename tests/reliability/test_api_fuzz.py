"""API fuzzing (SPEC §4): schemathesis cases generated from ``openapi.json``, sent to the local stack.

Each route gets valid and invalid requests (positive and negative generation), with ids of the demo
data mixed in so that requests reach the rules and the database, not only the 404s of random ids.
Half of them carry a demo identity (any of the five demo roles), half none. Every response must be
no 5xx, documented (status, content type, body schema), and free of stack traces, SQL, driver names
and the database URL; a request without identity is always 401, as Cognito answers.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis import checks as schema_checks
from sqlalchemy import Engine

from flip_local.demo import DEMO_USERS, DemoSummary
from tests.dev_stack import RunningStack
from tests.lambda_support import ROOT
from tests.reliability.conftest import DERANDOMIZE, add_odd_rows, record, reset_to_demo

SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json")
OPERATIONS: list[APIOperation] = [result.ok() for result in SCHEMA.get_all_operations()]

#: Generated requests per route, with an identity and without one (× the template's routes: the
#: figure README.md and docs/reliability.md give, checked by tests/unit/test_docs_figures.py).
CASES_WITH_IDENTITY = 120
CASES_WITHOUT_IDENTITY = 80

ROLES = sorted(DEMO_USERS)  # admin, owner, researcher, stranger, viewer

CHECKS = [
    schema_checks.not_a_server_error,
    schema_checks.status_code_conformance,
    schema_checks.content_type_conformance,
    schema_checks.response_headers_conformance,
    schema_checks.response_schema_conformance,
]

#: What a response body must never contain (plus the database URL, checked per run).
LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|pg8000|psycopg|SQLSTATE|\bSELECT |\bINSERT INTO|\bUPDATE \w+ SET|"
    r"password|postgres(ql)?(\+\w+)?://|secret",
    re.IGNORECASE,
)


def known_ids(demo: DemoSummary) -> dict[str, list[str]]:
    """Path parameter → ids that exist in the demo data."""
    models = [demo.pending_model_id, demo.running_model_id, demo.finished_model_id]
    return {"modelId": [str(m) for m in models], "projectId": [str(demo.project_id)]}


def cases(operation: APIOperation, demo: DemoSummary) -> st.SearchStrategy[Case]:
    """Valid and invalid requests; about half of the valid ones name demo rows in their path."""
    names = re.findall(r"\{(\w+)\}", operation.path)
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    known = known_ids(demo)
    for name in names:
        for value in known.get(name, []):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: value}))
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters={name: value}))
    if operation.path == "/model":  # a body naming the demo project, so that some are created
        body = {"name": "Fuzzed model", "projectId": str(demo.project_id)}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, body=body))
    if operation.path == "/models":  # the project filter: the demo project or another
        strategies.append(
            operation.as_strategy(GenerationMode.POSITIVE, query={"project": str(demo.project_id)})
        )
    return st.one_of(strategies)


def describe(case: Case, response: requests.Response) -> str:
    return (
        f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r:.300}"
        f" → {response.status_code} {response.text[:500]}"
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_generated_requests_get_documented_answers_and_never_a_5xx(
    operation: APIOperation, local_stack: RunningStack, engine: Engine, database_url: str
) -> None:
    demo = reset_to_demo(engine)
    add_odd_rows(engine, demo.running_model_id)
    statuses: Counter[int] = Counter()
    database_name = database_url.rsplit("/", 1)[-1]

    def exercise(case: Case, identity: str | None) -> None:
        headers = {"X-Dev-User": identity} if identity else {}
        try:
            response = case.call(base_url=local_stack.api, headers=headers, timeout=30)
        except requests.RequestException as error:
            pytest.fail(
                f"{case.method} {case.formatted_path}: no HTTP answer ({error})\n{local_stack.log_tail()}"
            )
        statuses[response.status_code] += 1
        assert response.status_code < 500, describe(case, response)
        if identity is None:
            assert response.status_code == 401, describe(case, response)
        if response.status_code >= 400:  # a 2xx body is data, and FL logs may quote tracebacks or SQL
            leak = LEAKS.search(response.text)
            assert leak is None, f"leaked {leak.group(0)!r}: {describe(case, response)}"
            assert database_name not in response.text, describe(case, response)
        assert response.headers.get("access-control-allow-origin") == ["*"], describe(case, response)
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz_settings = settings(
        # No shrinking: the assertion messages name the request, and a failure reports at once.
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    @settings(fuzz_settings, max_examples=CASES_WITH_IDENTITY)
    @given(case=cases(operation, demo), identity=st.sampled_from(ROLES))
    def with_identity(case: Case, identity: str) -> None:
        exercise(case, identity)

    @settings(fuzz_settings, max_examples=CASES_WITHOUT_IDENTITY)
    @given(case=cases(operation, demo))
    def without_identity(case: Case) -> None:
        exercise(case, None)

    with_identity()
    without_identity()

    tried = sum(statuses.values())
    assert tried >= CASES_WITH_IDENTITY + CASES_WITHOUT_IDENTITY
    assert statuses[401] >= CASES_WITHOUT_IDENTITY
    record(
        "api_fuzzing",
        cases=tried,
        routes=1,
        server_errors=sum(n for status, n in statuses.items() if status >= 500),
        **{f"status_{status}": n for status, n in sorted(statuses.items())},
    )


def test_the_fuzzer_covers_every_route_of_the_template() -> None:
    from flip_local.template import load_template

    template = load_template(parameters={"Stage": "local"})
    routes = {
        (route.method.upper(), route.path)
        for spec in template.functions.values()
        for route in spec.api_routes
        if route.api != "FlIngressApi"
    }
    ingress = {
        (route.method.upper(), route.path)
        for spec in template.functions.values()
        for route in spec.api_routes
        if route.api == "FlIngressApi"
    }

    assert {(operation.method.upper(), operation.path) for operation in OPERATIONS} == routes
    assert len(routes) == 15
    assert ingress == INGRESS_ROUTES  # test_the_fl_ingress_never_answers_5xx_and_always_in_flips_shape


# --- The FL ingress (SPEC §10): FLIP's internal routes, which openapi.json does not describe ---

#: Generated requests per ingress route (3 routes).
INGRESS_CASES = 300
INGRESS_ROUTES = {
    ("PUT", "/api/model/{modelId}/status/{status}"),
    ("POST", "/api/model/{modelId}/logs"),
    ("POST", "/api/model/{modelId}/metrics"),
}
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = {
    "fl_client_name": st.sampled_from(["Trust_1", "Trust_2", "Trust_3", "Trust_9", "", None])
    | st.text(max_size=20),
    "log": st.none() | st.text(max_size=200),
    "event_type": st.sampled_from(
        ["ROUND_STARTED", "CLIENT_RESULT_RECEIVED", "QUEUE_POSITION", "JOB_WAITING_FOR_RESOURCES", " "]
    )
    | st.text(max_size=70)
    | st.none(),
    "global_round": st.none()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(),
    "details": st.none() | _JSON,
    "success": st.booleans() | _JSON,
    "label": st.text(max_size=70) | st.integers(),
    "result": st.floats() | st.integers(min_value=-(10**400), max_value=10**400) | st.text(max_size=5),
    "x_label": st.none() | st.text(max_size=70),
    "x_value": st.none() | st.floats() | st.integers(),
    "event_id": st.none() | st.text(max_size=600),
}


@st.composite
def ingress_requests(draw: st.DrawFn, demo: DemoSummary, key: str) -> dict[str, object]:
    """One request as an FL server, a broken one or a hostile caller might send it."""
    model = draw(
        st.sampled_from([str(demo.running_model_id), str(demo.pending_model_id)])
        | st.uuids().map(str)
        | st.text(alphabet="abcdef0123456789-%.", min_size=1, max_size=40)
    )
    route = draw(st.sampled_from(["status", "logs", "metrics"]))
    headers: dict[str, str] = {}
    sent_key = draw(st.sampled_from([key, key, key, None, "", key[:-1], key + "x", "k" * 5000]))
    if sent_key is not None:
        headers["X-Internal-Service-Key"] = sent_key
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.text(alphabet="abc-/0123", min_size=1, max_size=600))
    if route == "status":
        status = draw(
            st.sampled_from(["RUNNING", "PREPARED", "ERROR", "PENDING", "TRAINING_STARTED", "running", "X"])
            | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_%.", min_size=1, max_size=30)
        )
        return {
            "method": "PUT",
            "path": f"/api/model/{model}/status/{status}",
            "headers": headers,
            "data": None,
        }
    kind = draw(st.sampled_from(["valid", "valid", "fields", "fields", "any json", "not json", "huge"]))
    if kind == "valid":  # what FLIP's FL servers send, with values drawn: many reach the queues
        client = draw(st.sampled_from(["Trust_1", "Trust_2", "Trust_3", "Trust_9"]))
        round_ = draw(st.integers(min_value=0, max_value=2**31))
        if route == "metrics":
            body = {
                "fl_client_name": client,
                "global_round": round_,
                "label": draw(st.text(max_size=65)),
                "result": draw(st.floats(allow_nan=False, allow_infinity=False)),
            }
        elif draw(st.booleans()):
            body = {
                "fl_client_name": client,
                "log": draw(st.text(max_size=300)),
                "success": draw(st.booleans()),
            }
        else:
            body = {
                "fl_client_name": draw(st.sampled_from([client, None])),
                "event_type": draw(
                    st.sampled_from(["ROUND_STARTED", "CLIENT_RESULT_RECEIVED", "ROUND_AGGREGATED"])
                ),
                "global_round": round_,
                "details": draw(st.none() | _JSON),
            }
        data = json.dumps(body).encode()
    elif kind == "fields":
        names = draw(st.sets(st.sampled_from(sorted(_FIELDS)), max_size=len(_FIELDS)))
        body = {name: draw(_FIELDS[name]) for name in names}
        data = json.dumps(body).encode()
    elif kind == "any json":
        data = json.dumps(draw(_JSON)).encode()
    elif kind == "not json":
        data = draw(st.binary(max_size=200))
    else:
        data = json.dumps({"fl_client_name": "Trust_1", "log": "x" * 270_000}).encode()
    headers["Content-Type"] = draw(
        st.sampled_from(["application/json", "application/json", "text/plain", "application/problem+json"])
    )
    return {"method": "POST", "path": f"/api/model/{model}/{route}", "headers": headers, "data": data}


def test_the_fl_ingress_never_answers_5xx_and_always_in_flips_shape(
    local_stack: RunningStack, engine: Engine, database_url: str
) -> None:
    demo = reset_to_demo(engine)
    state = json.loads(local_stack.state_file.read_text())
    key, base = state["internal_service_key"], state["ingress_url"]
    statuses: Counter[int] = Counter()
    database_name = database_url.rsplit("/", 1)[-1]

    @settings(
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        max_examples=INGRESS_CASES * len(INGRESS_ROUTES),
    )
    @given(request=ingress_requests(demo, key))
    def exercise(request: dict[str, object]) -> None:
        headers = request["headers"]
        assert isinstance(headers, dict)
        try:
            response = requests.request(
                str(request["method"]),
                base + str(request["path"]),
                headers=headers,
                data=request["data"],
                timeout=30,
            )
        except requests.RequestException as error:
            pytest.fail(
                f"{request['method']} {request['path']}: no HTTP answer ({error})\n{local_stack.log_tail()}"
            )
        described = (
            f"{request['method']} {request['path']} {str(request['data'])[:200]}"
            f" → {response.status_code} {response.text[:300]}"
        )
        statuses[response.status_code] += 1
        assert response.status_code < 500, described
        if headers.get("X-Internal-Service-Key") != key:
            assert response.status_code in (401, 404), described  # 404: no such route, before any key
        if response.status_code >= 400:
            assert set(response.json()) == {"detail"}, described  # FLIP's (FastAPI's) error shape
            leak = LEAKS.search(response.text)
            assert leak is None, f"leaked {leak.group(0)!r}: {described}"
            assert database_name not in response.text, described
        elif response.status_code == 204:
            assert response.text == "", described

    exercise()

    assert statuses[401] > 0
    assert sum(n for status, n in statuses.items() if status < 300) > 0, statuses
    record(
        "ingress_fuzzing",
        cases=sum(statuses.values()),
        routes=len(INGRESS_ROUTES),
        server_errors=sum(n for status, n in statuses.items() if status >= 500),
        **{f"status_{status}": n for status, n in sorted(statuses.items())},
    )
