"""Rows other writers may store never break a read (SPEC §3, §4; issue 22 item 4).

FLIP's own API and older writers share ``fl_logs`` and ``fl_metrics``: hypothesis writes arbitrary
values of the columns' types straight into the tables (not through the FL consumers, which would
refuse most of them) — ``log_date`` NULL, ±infinity, BC, year 20000; any text, round, event type,
``details`` of any JSON; any float, NaN and infinities included — and every read route must answer
200 with valid JSON, the logs paged by a small ``limit`` visiting each row exactly once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import given as for_all
from hypothesis import strategies as st
from sqlalchemy import text

from flip_models.enums import ModelStatus
from tests.builders import Given
from tests.handlers.api_world import World, build_world
from tests.handlers.conftest import invoke

STORABLE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
ODD_DATES = st.sampled_from(
    ["infinity", "-infinity", "0044-03-15 12:00:00 BC", "20000-01-01 00:00:00", "294276-12-31 23:59:59"]
)
DATES = st.one_of(
    st.none(),
    ODD_DATES,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(str),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | STORABLE_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(STORABLE_TEXT, children, max_size=3),
    max_leaves=8,
)
DETAILS = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["total_rounds", "size_bytes", "returned", "expected", "requested"]) | STORABLE_TEXT,
        JSON_VALUES,
        max_size=4,
    ),
    JSON_VALUES,
)
EVENTS = st.one_of(
    st.none(),
    st.sampled_from(
        ["ROUND_STARTED", "CLIENT_RESULT_RECEIVED", "ROUND_AGGREGATED", "JOB_WAITING_FOR_RESOURCES"]
    ),
    STORABLE_TEXT,
)
INT4 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
LOG_ROWS = st.fixed_dictionaries(
    {
        "log_date": DATES,
        "success": st.booleans(),
        "with_trust": st.booleans(),
        "fl_client_name": st.none() | STORABLE_TEXT,
        "log": st.none() | STORABLE_TEXT,
        "event_type": EVENTS,
        "global_round": st.none() | INT4,
        "details": DETAILS,
    }
)
METRIC_ROWS = st.fixed_dictionaries(
    {
        "timestamp": DATES,
        "label": STORABLE_TEXT,
        "x_label": STORABLE_TEXT,
        "global_round": INT4,
        "result": st.floats(),
        "x_value": st.floats(),
    }
)


def _strict_json(raw: str | None) -> Any:
    """The body as JSON that any client parses: NaN and infinities are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(raw or "null", parse_constant=refuse)


def _insert(world: World, logs: list[dict[str, Any]], metrics: list[dict[str, Any]]) -> set[str]:
    session = world.given.session
    trust = world.trusts[0]
    ids: set[str] = set()
    for row in logs:
        row_id = uuid.uuid4()
        ids.add(str(row_id))
        session.execute(
            text(
                "INSERT INTO fl_logs (id, model_id, log_date, success, trust, fl_client_name, log, "
                "event_type, global_round, details) VALUES (:id, :model, CAST(:log_date AS timestamp), "
                ":success, :trust, :fl_client_name, :log, :event_type, :global_round, "
                "CAST(:details AS jsonb))"
            ),
            {
                **row,
                "id": row_id,
                "model": world.model.id,
                "trust": trust.id if row["with_trust"] else None,
                "details": None if row["details"] is None else json.dumps(row["details"]),
            },
        )
    for row in metrics:
        session.execute(
            text(
                "INSERT INTO fl_metrics (id, trust, fl_client_name, model_id, global_round, timestamp, "
                "label, result, x_label, x_value) VALUES (gen_random_uuid(), :trust, 'Trust_1', :model, "
                ":global_round, CAST(:timestamp AS timestamp), :label, CAST(:result AS float8), :x_label, "
                "CAST(:x_value AS float8))"
            ),
            {
                **row,
                "trust": trust.id,
                "model": world.model.id,
                "result": str(row["result"]),
                "x_value": str(row["x_value"]),
            },
        )
    session.commit()
    return ids


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@for_all(logs=st.lists(LOG_ROWS, min_size=1, max_size=7), metrics=st.lists(METRIC_ROWS, max_size=4))
def test_every_read_route_answers_whatever_the_rows_hold(
    given: Given, logs: list[dict[str, Any]], metrics: list[dict[str, Any]]
) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)
    given.job(world.model, started=datetime(2026, 1, 1, tzinfo=UTC), roster=world.trusts)
    ids = _insert(world, logs, metrics)
    path = {"modelId": str(world.model.id)}
    viewer = world.viewer

    seen: list[str] = []
    query = {"limit": "2"}
    for _ in range(len(ids) + 2):  # from the newest rows back to the oldest
        page = viewer.call("get_model_logs", "GET", "/model/{modelId}/logs", path, query=query)
        assert page.status == 200, page.raw_body
        seen += [row["id"] for row in _strict_json(page.raw_body)]
        if "X-Prev-Cursor" not in page.headers:
            break
        query = {"limit": "2", "cursor": page.headers["X-Prev-Cursor"]}
    assert sorted(seen) == sorted(ids)  # each row once, whatever its date
    oldest = {"limit": "2", "cursor": page.headers["X-Next-Cursor"]}
    forward = viewer.call("get_model_logs", "GET", "/model/{modelId}/logs", path, query=oldest)
    assert forward.status == 200  # and a cursor of any stored date reads on

    for function, resource in [
        ("get_model_logs", "/model/{modelId}/logs"),
        ("get_model_progress", "/model/{modelId}/progress"),
        ("get_model", "/model/{modelId}"),
        ("get_model_metrics", "/model/{modelId}/metrics"),
        ("get_model_trusts", "/model/{modelId}/trusts"),
        ("get_model_status", "/model/{modelId}/status"),
    ]:
        response = viewer.call(function, "GET", resource, path)
        assert response.status == 200, (function, response.raw_body)
        _strict_json(response.raw_body)
    listed = viewer.call("list_models", "GET", "/models")
    assert listed.status == 200
    _strict_json(listed.raw_body)
    swept = invoke("fail_stale_runs", {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert swept["errors"] == []
