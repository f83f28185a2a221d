"""Rendering of typed log events (SPEC §3)."""

from __future__ import annotations

import math

import pytest

from flip_models.core.rendering import format_size, render_log


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


def test_a_round_less_event_shows_its_name() -> None:
    details = {"attempt": 1, "max_attempts": 5, "final": False, "requested": {"gpus": 1}}
    assert render_log(None, "JOB_WAITING_FOR_RESOURCES", None, details) == "JOB_WAITING_FOR_RESOURCES"


def test_queue_position() -> None:
    assert render_log(None, "QUEUE_POSITION", None, {"position": 2, "job_id": "x"}) == "Model Queued (2)"
    assert render_log(None, "QUEUE_POSITION", None, {"position": 0}) == "Model Queued"
