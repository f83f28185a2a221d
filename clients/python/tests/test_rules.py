"""The client's checks: SPEC §5's rules from the shared table, and what the client adds around them."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from support import CASES_FILE

from flip_fl_reporter import MAX_BODY_BYTES, MAX_LOG_CHARACTERS, Invalid, broken_rule
from flip_fl_reporter.messages import (
    cut_log,
    encode,
    event_body,
    handled_exception_body,
    metric_body,
    outgoing,
    status_body,
)

CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
MODEL = "64de7381-991f-53bc-bc3b-809cd62e0933"


@pytest.mark.parametrize("case", CASES, ids=[f"{case['queue']}: {case['name']}" for case in CASES])
def test_the_client_agrees_with_the_table(case: dict[str, Any]) -> None:
    """The same table is checked against the service's consumers (tests/unit/test_fl_message_cases.py)."""
    invalid = broken_rule(case["queue"], case["body"])

    assert (invalid.field if invalid else None) == case["field"]


def test_a_rejection_reads_field_colon_rule() -> None:
    invalid = broken_rule("metrics", {"model_id": MODEL, "fl_client_name": "Trust_1", "global_round": -1})

    assert invalid is not None
    assert invalid.reason == "global_round: must be between 0 and 2147483647"


# --- what the client adds: arguments of the wrong type, text the database cannot store, size --------


class Scalar:
    """Stands for a numpy or torch scalar: a number through ``__index__``/``__float__`` only."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return float(self.value)


class IntScalar(Scalar):
    def __index__(self) -> int:
        return int(self.value)


def test_scalars_of_other_libraries_become_plain_numbers() -> None:
    body = metric_body(uuid.UUID(MODEL), "Trust_1", "LOSS", Scalar(0.25), IntScalar(3), x_value=Scalar(7))

    assert body == {
        "model_id": MODEL,
        "fl_client_name": "Trust_1",
        "global_round": 3,
        "label": "LOSS",
        "result": 0.25,
        "x_value": 7.0,
    }
    assert metric_body(MODEL, "Trust_1", "LOSS", 1, 3.0)["global_round"] == 3


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"global_round": "3"}, "global_round"),  # text is not guessed at, though the service would parse it
        ({"global_round": True}, "global_round"),
        ({"global_round": 2.5}, "global_round"),
        ({"result": "0.5"}, "result"),
        ({"result": None}, "result"),
        ({"model_id": "model-7"}, "model_id"),
        ({"model_id": 7}, "model_id"),
        ({"label": 7}, "label"),
    ],
)
def test_arguments_of_the_wrong_type_are_refused(arguments: dict[str, Any], field: str) -> None:
    call = {"model_id": MODEL, "fl_client_name": "Trust_1", "label": "LOSS", "result": 0.5, "global_round": 3}
    call.update(arguments)

    with pytest.raises(Invalid) as refused:
        metric_body(**call)

    assert refused.value.field == field


def test_enums_are_sent_as_their_value() -> None:
    import enum

    class ModelStatus(enum.Enum):  # flip-utils' enums are str-valued
        RUNNING = "RUNNING"

    assert status_body(MODEL, ModelStatus.RUNNING) == {"model_id": MODEL, "status": "RUNNING"}
    assert status_body(MODEL, " running ")["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (handled_exception_body(MODEL, "Trust_1", "bad\x00byte"), "log"),
        (handled_exception_body(MODEL, "Trust_1", "half \ud800 a pair"), "log"),
        (event_body(MODEL, "ROUND_STARTED", 1, details={"note": "nul\x00"}), "details"),
        (event_body(MODEL, "ROUND_STARTED", 1, fl_client_name="Trust\x00_1"), "fl_client_name"),
    ],
)
def test_text_the_database_cannot_store_is_refused_before_sending(body: dict[str, Any], field: str) -> None:
    """The service's rules accept these bodies; its database refuses the row (a dead letter)."""
    assert broken_rule("logs", body) is None

    with pytest.raises(Invalid) as refused:
        outgoing("logs", body, run_id="r")

    assert refused.value.field == field


def test_details_must_be_plain_json_with_finite_numbers() -> None:
    with pytest.raises(Invalid) as refused:
        event_body(MODEL, "ROUND_AGGREGATED", 1, details={"loss": math.nan})
    assert refused.value.field == "details"

    assert event_body(MODEL, "ROUND_AGGREGATED", 1, details={1: (IntScalar(2), Scalar(0.5))})["details"] == {
        "1": [2, 0.5]
    }


def test_a_huge_log_is_cut_as_the_service_stores_it_and_fits_one_message() -> None:
    traceback = "Traceback (most recent call last):\n" + "  File 'train.py', line 1\n" * 40_000  # ~1 MB

    body = handled_exception_body(MODEL, "Trust_1", traceback)
    message = outgoing("logs", body, run_id="r")

    kept = body["log"].index(" … [cut: ")
    assert body["log"] == traceback[:kept] + f" … [cut: {len(traceback) - kept} more characters]"
    assert len(body["log"]) == MAX_LOG_CHARACTERS
    assert len(message.body.encode()) < MAX_BODY_BYTES


def test_the_cut_keeps_its_marker_within_the_limit_whatever_the_digits() -> None:
    for length in (MAX_LOG_CHARACTERS, MAX_LOG_CHARACTERS + 1, MAX_LOG_CHARACTERS + 10, 10**7):
        text = "x" * length
        cut = cut_log(text)
        assert len(cut) <= MAX_LOG_CHARACTERS
        if length > MAX_LOG_CHARACTERS:
            kept = cut.index(" … [cut: ")
            assert cut == text[:kept] + f" … [cut: {length - kept} more characters]"
        else:
            assert cut == text


def test_the_worst_case_log_still_fits_in_one_message() -> None:
    """Four-byte characters throughout, with the largest details and a long client name."""
    body = handled_exception_body(MODEL, "Trust_1" * 100, "\U0001f525" * 100_000)

    message = outgoing("logs", body, run_id="r")

    assert len(message.body.encode()) <= 4 * MAX_LOG_CHARACTERS + 2_000


def test_a_body_over_the_size_limit_is_refused() -> None:
    body = metric_body(MODEL, "T" * MAX_BODY_BYTES, "LOSS", 0.5, 1)

    with pytest.raises(Invalid) as refused:
        outgoing("metrics", body, run_id="r")

    assert refused.value.field == "body"


def test_the_body_text_escapes_only_what_sqs_refuses() -> None:
    text = encode({"log": "é \U0001f525 \t \x1b[31m \ufffe \uffff"})

    assert "é \U0001f525" in text  # UTF-8, not escaped
    assert "\\ufffe" in text
    assert "\\uffff" in text
    assert "\\u001b" in text
    assert json.loads(text) == {"log": "é \U0001f525 \t \x1b[31m \ufffe \uffff"}
