"""Hypothesis strategies for FL server message bodies (SPEC §5): valid, one rule broken, or garbage.

Each strategy gives a :class:`Body`: the raw SQS body text and what must happen to it (``apply``,
``reject``, or ``either`` for garbage whose fate the fuzzer does not predict). The world they aim
at is :class:`Site`: two models, a trust of both, a trust of one only and an unassigned FL kit slot.
:func:`reuse` makes, from a body applied before, another message with its ``event_id``: the same
body again, another body, or the same key on the other model.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

Expect = Literal["apply", "reject", "either"]
Reuse = Literal["same body", "other body", "other model"]

MAX_ROUND = 2_147_483_647
#: A free-text log longer than this is stored cut (SPEC §5).
MAX_LOG_CHARACTERS = 32_768
#: Numbers Python's ``json`` cannot write, put into a body's text in place of these strings.
BEYOND_JSON = {'"__5000_DIGITS__"': "9" * 5000, '"__1E400__"': "1e400"}
#: Text PostgreSQL can store: no NUL, no lone surrogate (which JSON parsing rejects anyway).
SAFE_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")


@dataclass(frozen=True)
class Body:
    text: str
    expect: Expect
    event_id: str | None = None  # the idempotency key when the body carries a usable one
    fields: dict[str, Any] | None = None  # what was sent, for a body built from fields
    reused: bool = False  # a key applied before, with another body: rejected as a reused key

    @property
    def huge_log(self) -> bool:
        log = self.fields.get("log") if self.fields else None
        return isinstance(log, str) and len(log) > MAX_LOG_CHARACTERS

    @property
    def huge_number(self) -> bool:
        return any(token in self.text for token in BEYOND_JSON.values()) or bool(
            re.search(r"\d{300}", self.text)
        )


@dataclass(frozen=True)
class Site:
    """``model_a`` has the trust of slot ``Trust_1``; ``model_b`` those of ``Trust_1`` and ``Trust_2``;
    slot ``Trust_9`` is assigned to no trust."""

    model_a: uuid.UUID
    model_b: uuid.UUID
    #: A model waiting in the queue after a reset: its run ended, a person set it back to PENDING and
    #: the hub queued it again (a COMPLETED job, then a QUEUED one). Late statuses of the old run are
    #: sent to it too; none may move it (SPEC §3 rule 2).
    queued: uuid.UUID | None = None

    def clients_of(self, model: uuid.UUID) -> list[str]:
        return ["Trust_1"] if model == self.model_a else ["Trust_1", "Trust_2"]

    def other(self, model: uuid.UUID) -> uuid.UUID:
        return self.model_b if model == self.model_a else self.model_a


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


def body_from(fields: dict[str, Any], expect: Expect, *, reused: bool = False) -> Body:
    event_id = fields.get("event_id")
    usable = event_id if isinstance(event_id, str) and event_id.strip() else None
    text = json.dumps(fields)
    for token, number in BEYOND_JSON.items():
        text = text.replace(token, number)
    return Body(text, expect, usable, fields, reused)


def huge_integers() -> st.SearchStrategy[int]:
    """Integers of 19 to 4,000 digits: valid JSON, valid details (within 8 KiB), beyond any float
    when over 308 digits, and within Python's 4,300-digit limit."""
    return st.builds(
        lambda digits, sign: sign * (10 ** (digits - 1) + digits),
        st.integers(19, 4000),
        st.sampled_from([1, -1]),
    )


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
        line = draw(text(max_size=2000))
        if draw(st.integers(0, 9)) == 0:  # a huge traceback: stored cut, never refused (SPEC §5)
            line += "x" * draw(st.integers(MAX_LOG_CHARACTERS + 1 - len(line), 200_000))
        fields |= {"log": line, "global_round": draw(st.none() | st.integers(0, 10**6))}
    else:
        waiting = draw(st.booleans())
        name = "JOB_WAITING_FOR_RESOURCES" if waiting else draw(text(1, 64).filter(str.strip))
        details = st.dictionaries(text(max_size=12), json_values(), max_size=5)
        fields |= {
            "event_type": name if name.strip() != "QUEUE_POSITION" else "ROUND_STARTED",
            "global_round": None if waiting else draw(st.integers(1, MAX_ROUND)),
            "details": draw(
                st.none()
                | details.filter(lambda d: len(json.dumps(d).encode()) <= 8192)  # the limit of SPEC §5
                | st.fixed_dictionaries({"size_bytes": huge_integers()})  # valid; beyond any float
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
    (
        "details with an integer over 4,300 digits",
        {"log": None, "event_type": "E", "global_round": 1, "details": {"size_bytes": "__5000_DIGITS__"}},
    ),
    (
        "details with 1e400",
        {"log": None, "event_type": "E", "global_round": 1, "details": {"v": "__1E400__"}},
    ),
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
        (3, valid_log(site).map(lambda f: body_from(f, "apply"))),
        (1, unattributed_failure.map(lambda f: body_from(f, "apply"))),  # kept at model level (SPEC §5)
        (3, broken_log(site).map(lambda f: body_from(f, "reject"))),
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
    {"result": "__1E400__"},
    {"result": "__5000_DIGITS__"},
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
        (4, valid_metric(site).map(lambda f: body_from(f, "apply"))),
        (2, broken_metric(site).map(lambda f: body_from(f, "reject"))),
        (1, trust_of_another_model.map(lambda f: body_from(f, "reject"))),
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
        "model_id": str(
            draw(st.sampled_from([site.model_a, site.model_b, *([site.queued] if site.queued else [])]))
        ),
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
        return body_from(fields, "reject")

    return mix(
        (4, valid_status(site).map(lambda f: body_from(f, "apply"))),
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


# --- reused keys -------------------------------------------------------------------------------------

CANONICAL_STATUSES = ["INITIATED", "PREPARED", "RUNNING", "ERROR", "RESULTS_UPLOADED",
                      "RESULTS_UPLOAD_FAILED", "STOPPED"]  # fmt: skip


def canonical_status(value: str) -> str:
    status = value.strip().upper()
    return "RUNNING" if status == "TRAINING_STARTED" else status


def reuse(queue: str, fields: dict[str, Any], how: Reuse, site: Site, pick: int) -> dict[str, Any]:
    """Another message with the ``event_id`` of ``fields`` (a valid body): the same body, another
    valid body for the same model (another ``success``, label or status), or the same body for the
    other model (from an FL client of both)."""
    if how == "same body":
        return dict(fields)
    if how == "other model":
        moved = fields | {"model_id": str(site.other(uuid.UUID(fields["model_id"])))}
        if fields.get("fl_client_name") is not None:
            moved["fl_client_name"] = "Trust_1"
        return moved
    if queue == "fl_logs":
        return fields | {"success": not fields.get("success", True)}
    if queue == "fl_metrics":
        return fields | {"label": "reused" if fields["label"] != "reused" else "reused again"}
    others = [s for s in CANONICAL_STATUSES if s != canonical_status(fields["status"])]
    return fields | {"status": others[pick % len(others)]}


def sent_as(queue: str, fields: dict[str, Any]) -> Any:
    """What of a body its row keeps, to check the first body applied with a key stays."""
    if queue == "fl_logs":
        return fields.get("success", True)
    if queue == "fl_metrics":
        return fields["label"]
    return canonical_status(fields["status"])
