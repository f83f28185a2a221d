"""Hypothesis strategies for FL server message bodies (SPEC §5): valid, one rule broken, or garbage.

Each strategy gives a :class:`Body`: the raw SQS body text and what must happen to it (``apply``,
``reject``, or ``either`` for garbage whose fate the fuzzer does not predict). The world they aim
at is :class:`Site`: two models, a trust of both, a trust of one only and an unassigned FL kit slot.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

Expect = Literal["apply", "reject", "either"]

MAX_ROUND = 2_147_483_647
#: Text PostgreSQL can store: no NUL, no lone surrogate (which JSON parsing rejects anyway).
SAFE_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")


@dataclass(frozen=True)
class Body:
    text: str
    expect: Expect
    event_id: str | None = None  # the idempotency key when the body carries a usable one


@dataclass(frozen=True)
class Site:
    """``model_a`` has the trust of slot ``Trust_1``; ``model_b`` those of ``Trust_1`` and ``Trust_2``;
    slot ``Trust_9`` is assigned to no trust."""

    model_a: uuid.UUID
    model_b: uuid.UUID

    def clients_of(self, model: uuid.UUID) -> list[str]:
        return ["Trust_1"] if model == self.model_a else ["Trust_1", "Trust_2"]


def text(min_size: int = 0, max_size: int = 80) -> st.SearchStrategy[str]:
    return st.text(SAFE_TEXT, min_size=min_size, max_size=max_size)


def event_ids() -> st.SearchStrategy[str | None]:
    """Absent, blank (= absent) or unique (a fresh uuid with some text)."""
    unique = st.builds(lambda tail: f"{uuid.uuid4()}:{tail}", text(max_size=40))
    return st.one_of(st.none(), st.just(""), st.just("   "), unique)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value PostgreSQL's jsonb can store (finite numbers, no NUL)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        text(max_size=30),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def mix(*weighted: tuple[int, st.SearchStrategy[Body]]) -> st.SearchStrategy[Body]:
    """Pick a strategy by weight (``one_of`` would flatten garbage's many branches and favour it)."""
    choices = [strategy for weight, strategy in weighted for _ in range(weight)]
    return st.integers(0, len(choices) - 1).flatmap(lambda index: choices[index])


def _body(fields: dict[str, Any], expect: Expect) -> Body:
    event_id = fields.get("event_id")
    usable = event_id if isinstance(event_id, str) and event_id.strip() else None
    return Body(json.dumps(fields), expect, usable)


# --- fl-logs -----------------------------------------------------------------------------------------


@st.composite
def valid_log(draw: st.DrawFn, site: Site) -> dict[str, Any]:
    model = draw(st.sampled_from([site.model_a, site.model_b]))
    fields: dict[str, Any] = {
        "model_id": str(model),
        "fl_client_name": draw(st.sampled_from([None, *site.clients_of(model)])),
        "success": draw(st.booleans()),
        "event_id": draw(event_ids()),
    }
    if draw(st.booleans()):
        fields |= {"log": draw(text(max_size=2000)), "global_round": draw(st.none() | st.integers(0, 10**6))}
    else:
        waiting = draw(st.booleans())
        name = "JOB_WAITING_FOR_RESOURCES" if waiting else draw(text(1, 64).filter(str.strip))
        fields |= {
            "event_type": name if name.strip() != "QUEUE_POSITION" else "ROUND_STARTED",
            "global_round": None if waiting else draw(st.integers(1, MAX_ROUND)),
            "details": draw(
                st.none()
                | st.dictionaries(text(max_size=12), json_values(), max_size=5).filter(
                    lambda details: len(json.dumps(details).encode()) <= 8192  # the limit of SPEC §5
                )
            ),
        }
    return fields


LOG_RULE_BREAKS: list[tuple[str, dict[str, Any]]] = [
    ("both log and event_type", {"log": "x", "event_type": "ROUND_STARTED", "global_round": 1}),
    ("neither log nor event_type", {"log": None, "event_type": None}),
    ("blank event_type", {"log": None, "event_type": "   ", "global_round": 1}),
    ("event_type too long", {"log": None, "event_type": "E" * 65, "global_round": 1}),
    ("hub-reserved event", {"log": None, "event_type": "QUEUE_POSITION", "global_round": 1}),
    ("event without round", {"log": None, "event_type": "ROUND_STARTED", "global_round": None}),
    ("event in round 0", {"log": None, "event_type": "ROUND_STARTED", "global_round": 0}),
    ("round too large", {"log": None, "event_type": "ROUND_STARTED", "global_round": MAX_ROUND + 1}),
    ("round not a number", {"global_round": "three"}),
    ("round a fraction", {"global_round": 1.5}),
    ("details too big", {"log": None, "event_type": "E", "global_round": 1, "details": {"x": "y" * 9000}}),
    ("details a list", {"log": None, "event_type": "E", "global_round": 1, "details": [1, 2]}),
    ("details with NaN", {"log": None, "event_type": "E", "global_round": 1, "details": {"v": float("nan")}}),
    ("log not text", {"log": 123, "event_type": None}),
    ("NUL in log", {"log": "before\x00after", "event_type": None}),
    ("success not a bool", {"success": "maybe"}),
    ("event_id too long", {"event_id": "e" * 513}),
    ("unknown model", {"model_id": "UNKNOWN"}),
    ("model_id not a uuid", {"model_id": "model-1"}),
    ("model_id missing", {"model_id": None}),
    (
        "typed event from an unknown slot",
        {"fl_client_name": "Trust_9", "log": None, "event_type": "E", "global_round": 2},
    ),
    (
        "good news from an unknown client",
        {"fl_client_name": "Site 42", "log": "fine", "event_type": None, "success": True},
    ),
]


@st.composite
def broken_log(draw: st.DrawFn, site: Site) -> dict[str, Any]:
    """A valid log with exactly one rule of SPEC §5 broken."""
    fields = draw(valid_log(site))
    _, change = draw(st.sampled_from(LOG_RULE_BREAKS))
    fields |= change
    if fields.get("model_id") == "UNKNOWN":
        fields["model_id"] = str(uuid.uuid4())
    if fields.get("model_id") is None:
        del fields["model_id"]
    if "event_id" in change:
        return fields
    fields["event_id"] = None  # a rejected message is found in the DLQ by its SQS message id
    return fields


def log_bodies(site: Site) -> st.SearchStrategy[Body]:
    unattributed_failure = st.builds(
        lambda model, client, line: {
            "model_id": str(model),
            "fl_client_name": client,
            "log": line,
            "success": False,
        },
        st.sampled_from([site.model_a]),
        st.sampled_from(["Trust_2", "Trust_9", "unknown site"]),
        text(max_size=200),
    )
    return mix(
        (3, valid_log(site).map(lambda f: _body(f, "apply"))),
        (1, unattributed_failure.map(lambda f: _body(f, "apply"))),  # kept at model level (SPEC §5)
        (3, broken_log(site).map(lambda f: _body(f, "reject"))),
        (3, garbage()),
    )


# --- fl-metrics --------------------------------------------------------------------------------------


@st.composite
def valid_metric(draw: st.DrawFn, site: Site) -> dict[str, Any]:
    model = draw(st.sampled_from([site.model_a, site.model_b]))
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return {
        "model_id": str(model),
        "fl_client_name": draw(st.sampled_from(site.clients_of(model))),
        "global_round": draw(st.integers(0, MAX_ROUND)),
        "label": draw(text(1, 64)),
        "result": draw(finite),
        "x_label": draw(st.none() | text(1, 64)),
        "x_value": draw(st.none() | finite),
        "event_id": draw(event_ids()),
    }


METRIC_RULE_BREAKS: list[dict[str, Any]] = [
    {"result": float("nan")},
    {"result": float("inf")},
    {"result": float("-inf")},
    {"x_value": float("nan")},
    {"result": "high"},
    {"result": None},
    {"label": ""},
    {"label": "L" * 65},
    {"x_label": ""},
    {"x_label": "X" * 65},
    {"global_round": -1},
    {"global_round": MAX_ROUND + 1},
    {"fl_client_name": None},
    {"fl_client_name": "Trust_9"},
    {"fl_client_name": "no such slot"},
    {"label": "nul\x00"},
    {"model_id": "UNKNOWN"},
    {"model_id": 7},
]


@st.composite
def broken_metric(draw: st.DrawFn, site: Site) -> dict[str, Any]:
    fields = draw(valid_metric(site)) | draw(st.sampled_from(METRIC_RULE_BREAKS))
    if fields["model_id"] == "UNKNOWN":
        fields["model_id"] = str(uuid.uuid4())
    fields["event_id"] = None
    return fields


def metric_bodies(site: Site) -> st.SearchStrategy[Body]:
    trust_of_another_model = st.builds(
        lambda f: f | {"model_id": str(site.model_a), "fl_client_name": "Trust_2", "event_id": None},
        valid_metric(site),
    )
    return mix(
        (4, valid_metric(site).map(lambda f: _body(f, "apply"))),
        (2, broken_metric(site).map(lambda f: _body(f, "reject"))),
        (1, trust_of_another_model.map(lambda f: _body(f, "reject"))),
        (3, garbage()),
    )


# --- fl-status.fifo ----------------------------------------------------------------------------------

STATUSES = ["INITIATED", "PREPARED", "RUNNING", "TRAINING_STARTED", "ERROR", "RESULTS_UPLOADED",
            "RESULTS_UPLOAD_FAILED", "STOPPED"]  # fmt: skip


@st.composite
def valid_status(draw: st.DrawFn, site: Site) -> dict[str, Any]:
    status = draw(st.sampled_from(STATUSES))
    spelled = draw(st.sampled_from([status, status.lower(), f"  {status.title()} "]))
    return {
        "model_id": str(draw(st.sampled_from([site.model_a, site.model_b]))),
        "status": spelled,
        "event_id": draw(event_ids()),
    }


STATUS_RULE_BREAKS: list[dict[str, Any]] = [
    {"status": "PENDING"},
    {"status": "pending"},
    {"status": "BOGUS"},
    {"status": 5},
    {"status": None},
    {"status": ""},
    {"model_id": "UNKNOWN"},
    {"model_id": "not-a-uuid"},
]


def status_bodies(site: Site) -> st.SearchStrategy[Body]:
    breaks = st.sampled_from(STATUS_RULE_BREAKS)

    def broken(fields: dict[str, Any], change: dict[str, Any]) -> Body:
        fields = fields | change | {"event_id": None}
        if fields["model_id"] == "UNKNOWN":
            fields["model_id"] = str(uuid.uuid4())
        return _body(fields, "reject")

    return mix(
        (4, valid_status(site).map(lambda f: _body(f, "apply"))),
        (3, st.builds(broken, valid_status(site), breaks)),
        (3, garbage()),
    )


# --- garbage for every queue -------------------------------------------------------------------------


def garbage() -> st.SearchStrategy[Body]:
    """Bodies no FL server should send: not JSON, not an object, hostile sizes and depths."""
    any_text = st.text(st.characters(codec="utf-8"), max_size=200)  # NUL and every plane
    deep = st.integers(150, 3000).map(lambda depth: '{"model_id": ' + "[" * depth + "]" * depth + "}")
    deep_details = st.integers(150, 3000).map(
        lambda depth: (
            '{"log": null, "event_type": "E", "global_round": 1, "details": '
            + '{"a": ' * depth
            + "1"
            + "}" * depth
            + "}"
        )
    )
    values = st.one_of(
        any_text,
        st.just(""),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "null", "true", "[]", "{}", '{"model_id": NaN}']),
        json_values().map(json.dumps),
        st.dictionaries(any_text, json_values(), max_size=6).map(json.dumps),
        st.integers(100_000, 250_000).map(lambda n: json.dumps({"log": "x" * n, "model_id": None})),
        st.just('{"model_id": "\\ud800", "log": "lone surrogate"}'),
        deep,
        deep_details,
    )
    return values.map(lambda body: Body(body, "either"))
