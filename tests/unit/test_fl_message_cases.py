"""The consumers' message models against the table of cases the FL servers' client is tested with.

``clients/python/tests/data/fl_message_cases.json`` holds SPEC §5's body rules as cases (a body,
and the field its rejection names, or null). The client checks bodies before sending them
(``flip_fl_reporter.rules``) without depending on this package; this test and the client's own
read the same table, so a rule changed on one side only fails a test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

# The one import of the layer's message models in this test (the module moves in the layer's
# restructuring; only this line changes with it).
from flip_models.fl.messages import FLLogMessage, FLMetricMessage, FLStatusMessage, rejection_reason
from tests.lambda_support import ROOT

CASES_FILE = ROOT / "clients" / "python" / "tests" / "data" / "fl_message_cases.json"
MODELS: dict[str, type[BaseModel]] = {
    "logs": FLLogMessage,
    "metrics": FLMetricMessage,
    "status": FLStatusMessage,
}
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def rejected_field(queue: str, body: Any) -> str | None:
    """The field the consumer's rejection reason names (None: the body is valid)."""
    try:
        MODELS[queue].model_validate_json(json.dumps(body))
    except ValidationError as error:
        return rejection_reason(error).split(": ", 1)[0]
    return None


@pytest.mark.parametrize("case", CASES, ids=[f"{case['queue']}: {case['name']}" for case in CASES])
def test_the_consumers_agree_with_the_table(case: dict[str, Any]) -> None:
    assert rejected_field(case["queue"], case["body"]) == case["field"]


def test_the_table_covers_every_queue_both_ways() -> None:
    for queue in MODELS:
        verdicts = {case["field"] is None for case in CASES if case["queue"] == queue}
        assert verdicts == {True, False}, queue
