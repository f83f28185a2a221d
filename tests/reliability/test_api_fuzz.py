"""API fuzzing (SPEC §4): schemathesis cases generated from ``openapi.json``, sent to the local stack.

Each route gets valid and invalid requests (positive and negative generation), with ids of the demo
data mixed in so that requests reach the rules and the database, not only the 404s of random ids.
Half of them carry a demo identity (any of the five demo roles), half none. Every response must be
no 5xx, documented (status, content type, body schema), and free of stack traces, SQL, driver names
and the database URL; a request without identity is always 401, as Cognito answers.
"""

from __future__ import annotations

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
    }

    assert {(operation.method.upper(), operation.path) for operation in OPERATIONS} == routes
    assert len(routes) == 15
