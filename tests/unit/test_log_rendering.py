"""Rendering of typed log events (SPEC §3)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flip_models.core.rendering import format_size, render_log
from flip_models.enums import FLLogEvent
from flip_models.store.db import decode_json


def test_free_text_is_verbatim_even_with_an_event() -> None:
    assert render_log("Site ready  ·  42", "ROUND_STARTED", 3) == "Site ready  ·  42"


def test_a_row_with_neither_text_nor_event_renders_empty() -> None:
    assert render_log(None, None, None, None) == ""


def test_round_started() -> None:
    assert (
        render_log(None, "ROUND_STARTED", 7, {"total_rounds": 10})
        == "Round 7 initiated · global model dispatched"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (2_411_724, "2.3 MB"),
        (5 * 1024**3, "5.0 GB"),
        (3 * 1024**4, "3.0 TB"),
        (2048 * 1024**4, "2048.0 TB"),
        (512.6, "513 B"),
    ],
)
def test_client_result_with_a_size_shows_1024_based_units(size: float, text: str) -> None:
    assert (
        render_log(None, "CLIENT_RESULT_RECEIVED", 2, {"size_bytes": size})
        == f"Round 2 weights uploaded · {text}"
    )
    assert format_size(size) == text


@pytest.mark.parametrize(
    "details",
    [
        None,
        {},
        {"size_bytes": None},
        {"size_bytes": "12"},
        {"size_bytes": True},
        {"size_bytes": math.nan},
        {"size_bytes": math.inf},
        {"size_bytes": -5},
        "not a dict",
    ],
)
def test_client_result_without_a_usable_size_says_results_returned(details: object) -> None:
    assert render_log(None, "CLIENT_RESULT_RECEIVED", 4, details) == "Round 4 results returned"  # type: ignore[arg-type]


def test_round_aggregated_with_counts() -> None:
    assert (
        render_log(None, "ROUND_AGGREGATED", 3, {"returned": 2, "expected": 3})
        == "Round 3 aggregated · 2 of 3 trusts returned"
    )


@pytest.mark.parametrize(
    "details", [None, {"returned": 2}, {"returned": 2.0, "expected": 3}, {"returned": True, "expected": 3}]
)
def test_round_aggregated_without_integer_counts(details: object) -> None:
    assert render_log(None, "ROUND_AGGREGATED", 3, details) == "Round 3 aggregated"  # type: ignore[arg-type]


def test_any_other_event_shows_round_and_name() -> None:
    assert render_log(None, "CUSTOM_THING", 5, None) == "Round 5 · CUSTOM_THING"


#: What NVFLARE's scheduler asks a site for, as flip-utils' reporter relays it (flip-utils
#: tests/unit/nvflare/components/test_job_scheduling_reporter.py, ``GPU_REQ``, commit 4890abff).
GPU_REQ = {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 16}


def test_waiting_for_resources_says_which_try_and_what_the_site_lacks() -> None:
    """Mirrors flip-utils' ``test_a_refused_attempt_tells_the_hub_who_fell_short_and_which_try_it_was``:
    round-less, ``{attempt, max_attempts, final, requested}``; the trust is shown beside the row."""
    details = {"attempt": 2, "max_attempts": 10, "final": False, "requested": GPU_REQ}
    assert (
        render_log(None, "JOB_WAITING_FOR_RESOURCES", None, details)
        == "Waiting for resources · attempt 2 of 10 · needs 1 GPU, 16 GiB per GPU"
    )


def test_the_last_refused_try_says_the_job_was_not_scheduled() -> None:
    """Mirrors flip-utils' ``test_the_last_attempt_the_scheduler_will_make_fails_the_model``
    (``final`` true, attempt == max_attempts, ``success`` false)."""
    details = {
        "attempt": 5,
        "max_attempts": 5,
        "final": True,
        "requested": {"num_of_gpus": 2, "mem_per_gpu_in_GiB": 16},
    }
    assert (
        render_log(None, "JOB_WAITING_FOR_RESOURCES", None, details)
        == "Not scheduled · no resources · attempt 5 of 5 · needs 2 GPUs, 16 GiB per GPU"
    )


@pytest.mark.parametrize(
    ("details", "text"),
    [
        (None, "Waiting for resources"),
        ({}, "Waiting for resources"),
        ({"attempt": 3}, "Waiting for resources · attempt 3"),
        ({"attempt": 3, "max_attempts": 2}, "Waiting for resources · attempt 3"),
        ({"attempt": True, "max_attempts": 10, "final": "yes"}, "Waiting for resources"),
        ({"attempt": 10**400, "requested": "1 GPU"}, "Waiting for resources"),
        (
            {"attempt": 1, "max_attempts": 10, "requested": {"num_of_gpus": 0}},
            "Waiting for resources · attempt 1 of 10 · needs 0 GPUs",
        ),
        ({"requested": {"gpus": 1, "mem_per_gpu_in_GiB": 8}}, "Waiting for resources · needs 8 GiB per GPU"),
    ],
)
def test_an_odd_waiting_row_still_renders_what_it_can(details: object, text: str) -> None:
    assert render_log(None, "JOB_WAITING_FOR_RESOURCES", None, details) == text  # type: ignore[arg-type]


def test_waiting_for_resources_ignores_a_round_it_does_not_have() -> None:
    assert (
        render_log(None, "JOB_WAITING_FOR_RESOURCES", 3, {"attempt": 1})
        == "Waiting for resources · attempt 1"
    )


def test_another_round_less_event_shows_its_name() -> None:
    assert render_log(None, "SITE_PAUSED", None, {"attempt": 1}) == "SITE_PAUSED"


def test_queue_position() -> None:
    assert render_log(None, "QUEUE_POSITION", None, {"position": 2, "job_id": "x"}) == "Model Queued (2)"
    assert render_log(None, "QUEUE_POSITION", None, {"position": 0}) == "Model Queued"


# --- Rendering never fails (SPEC §3): whatever a row holds, it renders --------------------------------

_HUGE_INTS = st.one_of(
    st.integers(),
    st.integers(2**63 - 2, 2**63 + 2),
    st.integers(1, 4300).map(lambda digits: 10**digits - 1),  # up to Python's printable limit
    st.integers(4301, 6000).map(lambda digits: 10**digits),  # beyond it (no str() possible)
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    _HUGE_INTS,
    st.floats(),  # NaN, ±infinity (a jsonb 1e400 decodes as inf), subnormals
    st.decimals(),  # what the store decodes an integer over the digit limit as
    st.text(),
)
JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
_KNOWN_KEYS = ("size_bytes", "returned", "expected", "position", "total_rounds")


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"size_bytes": 1}
    for _ in range(depth):
        value = {"size_bytes": value, "returned": [value]}
    return value


DETAILS = st.one_of(
    JSON,  # any JSON value, not only objects: a string, a list, null, a number
    st.fixed_dictionaries({}, optional=dict.fromkeys(_KNOWN_KEYS, JSON)),  # the keys read, any values
    st.integers(500, 5000).map(_nested),  # deep nesting
)
ROUNDS = st.one_of(st.none(), _HUGE_INTS, st.booleans())
EVENT_TYPES = st.one_of(st.sampled_from([event.value for event in FLLogEvent]), st.text())


@settings(max_examples=500, deadline=None)
@given(event_type=EVENT_TYPES, global_round=ROUNDS, details=DETAILS)
def test_every_typed_event_renders_whatever_its_round_and_details_hold(
    event_type: str, global_round: int | None, details: Any
) -> None:
    text = render_log(None, event_type, global_round, details)

    assert isinstance(text, str)
    shown = isinstance(global_round, int) and not isinstance(global_round, bool) and abs(global_round) < 2**63
    if not event_type:
        assert text == ""
    elif event_type == "QUEUE_POSITION":
        assert text == "Model Queued" or re.fullmatch(r"Model Queued \(\d+\)", text)
    elif event_type == "JOB_WAITING_FOR_RESOURCES":
        assert re.fullmatch(
            r"(Waiting for resources|Not scheduled · no resources)( · attempt \d+( of \d+)?)?"
            r"( · needs (\d+ GPUs?(, \d+ GiB per GPU)?|\d+ GiB per GPU))?",
            text,
        )
    elif not shown:
        assert text == event_type  # round-less: the event's name
    elif event_type == "CLIENT_RESULT_RECEIVED":
        assert text == f"Round {global_round} results returned" or re.fullmatch(
            rf"Round {global_round} weights uploaded · \d+(\.\d)? [KMGT]?B", text
        )
    elif event_type == "ROUND_AGGREGATED":
        assert text == f"Round {global_round} aggregated" or re.fullmatch(
            rf"Round {global_round} aggregated · -?\d+ of -?\d+ trusts returned", text
        )
    elif event_type == "ROUND_STARTED":
        assert text == f"Round {global_round} initiated · global model dispatched"
    else:
        assert text == f"Round {global_round} · {event_type}"


@settings(max_examples=200, deadline=None)
@given(log=st.text(), event_type=st.none() | EVENT_TYPES, global_round=ROUNDS, details=DETAILS)
def test_free_text_renders_verbatim_whatever_else_the_row_holds(
    log: str, event_type: str | None, global_round: int | None, details: Any
) -> None:
    assert render_log(log, event_type, global_round, details) == log


@pytest.mark.parametrize(
    "size",
    [10**399 + 7, 10**5000, float("1e308") * 10, Decimal("9" * 5000), -(10**400)],
    ids=["400 digits", "5000 digits", "overflowed float", "decimal", "negative 400 digits"],
)
def test_sizes_that_fit_no_float_fall_back_to_results_returned(size: object) -> None:
    assert render_log(None, "CLIENT_RESULT_RECEIVED", 4, {"size_bytes": size}) == "Round 4 results returned"


def test_counts_too_large_to_show_fall_back_to_the_plain_aggregated_line() -> None:
    details = {"returned": 10**5000, "expected": 3}
    assert render_log(None, "ROUND_AGGREGATED", 3, details) == "Round 3 aggregated"
    assert render_log(None, "QUEUE_POSITION", None, {"position": 10**5000}) == "Model Queued"


def test_the_store_decodes_any_json_postgresql_holds() -> None:
    """The driver's decoder for json/jsonb columns (:func:`flip_models.store.db.decode_json`)."""
    assert decode_json('{"size_bytes": 12, "x": [1.5, null]}') == {"size_bytes": 12, "x": [1.5, None]}
    assert decode_json(f'{{"size_bytes": {"9" * 5000}}}') == {"size_bytes": Decimal("9" * 5000)}
    deep = '{"a": ' * 5000 + "1" + "}" * 5000
    assert decode_json(deep) == deep  # kept as its text
    assert decode_json("1e400") == float("inf")
