"""The digest of an FL message (SPEC §5): every field the sender controls, as validated; nothing else."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from flip_models.fl.messages import FLLogMessage, FLMetricMessage, FLStatusMessage

MODEL = str(uuid.uuid4())
LOG: dict[str, Any] = {
    "model_id": MODEL,
    "fl_client_name": "Trust_1",
    "log": None,
    "event_type": "CLIENT_RESULT_RECEIVED",
    "global_round": 2,
    "details": {"size_bytes": 10**399, "nested": {"b": 1, "a": [1.5, None]}},
    "success": True,
    "event_id": "job-1:round-2",
}
METRIC: dict[str, Any] = {
    "model_id": MODEL,
    "fl_client_name": "Trust_1",
    "global_round": 3,
    "label": "LOSS",
    "result": 0.25,
    "x_label": "epoch",
    "x_value": 7.0,
    "event_id": "job-1:loss:3",
}


def digest(model: type[FLLogMessage | FLMetricMessage | FLStatusMessage], body: dict[str, Any] | str) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return model.model_validate_json(text).digest()


def test_formatting_key_order_and_unknown_fields_are_not_part_of_it() -> None:
    reordered = dict(reversed(LOG.items())) | {
        "details": {"nested": {"a": [1.5, None], "b": 1}, "size_bytes": 10**399}
    }
    assert digest(FLLogMessage, json.dumps(reordered, indent=4) + "\n") == digest(FLLogMessage, LOG)
    assert digest(FLLogMessage, LOG | {"fl_server_version": "2.6"}) == digest(FLLogMessage, LOG)


def test_what_validation_normalises_is_compared_normalised() -> None:
    assert digest(FLMetricMessage, METRIC | {"x_label": None, "x_value": None}) == digest(
        FLMetricMessage, METRIC | {"x_label": "Global Round", "x_value": 3}
    )
    assert digest(FLLogMessage, LOG | {"event_id": "  "}) == digest(FLLogMessage, LOG | {"event_id": None})
    status = {"model_id": MODEL, "event_id": "s"}
    assert digest(FLStatusMessage, status | {"status": " training_started"}) == digest(
        FLStatusMessage, status | {"status": "RUNNING"}
    )
    long = LOG | {"log": "x" * 40_000, "event_type": None}
    assert digest(FLLogMessage, long) == digest(FLLogMessage, long | {"log": "x" * 40_000})
    assert digest(FLLogMessage, long) != digest(FLLogMessage, long | {"log": "x" * 40_001})  # the cut counts


@pytest.mark.parametrize(
    ("model", "body", "change"),
    [
        (FLLogMessage, LOG, {"fl_client_name": "Trust_2"}),
        (FLLogMessage, LOG, {"fl_client_name": None}),
        (FLLogMessage, LOG, {"event_type": "ROUND_STARTED"}),
        (FLLogMessage, LOG, {"global_round": 3}),
        (FLLogMessage, LOG, {"details": {"size_bytes": 10**399 + 1, "nested": {"b": 1, "a": [1.5, None]}}}),
        (FLLogMessage, LOG, {"details": None}),
        (FLLogMessage, LOG, {"success": False}),
        (FLLogMessage, LOG, {"event_id": "job-1:round-2 "}),
        (FLLogMessage, LOG, {"model_id": str(uuid.uuid4())}),
        (FLLogMessage, LOG, {"log": "text", "event_type": None}),
        (FLMetricMessage, METRIC, {"fl_client_name": "Trust_2"}),
        (FLMetricMessage, METRIC, {"global_round": 4}),
        (FLMetricMessage, METRIC, {"label": "ACCURACY"}),
        (FLMetricMessage, METRIC, {"result": 0.2500000001}),
        (FLMetricMessage, METRIC, {"x_label": "step"}),
        (FLMetricMessage, METRIC, {"x_value": -7.0}),
    ],
)
def test_any_field_the_sender_sets_changes_it(
    model: type[FLLogMessage | FLMetricMessage], body: dict[str, Any], change: dict[str, Any]
) -> None:
    assert digest(model, body | change) != digest(model, body)
