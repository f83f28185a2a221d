"""``HubCallsOverSQS`` is a drop-in for flip-utils' ``FLIPStandardProd`` hub calls.

flip-utils is not installed here (it needs pandas, requests and the FLIP constants); the class below
has the shape of its ``FLIPStandardProd`` (``flip/core/standard.py``: the hub calls' signatures as
published, both the older ``round`` and the newer ``global_round`` form of ``send_metrics``).
"""

from __future__ import annotations

import enum
import inspect
from typing import Any

import pytest
from support import MODEL, Queues

from flip_fl_reporter import FLIPReporter, HubCallsOverSQS


class ModelStatus(str, enum.Enum):
    ERROR = "ERROR"
    RESULTS_UPLOADED = "RESULTS_UPLOADED"


class FLLogEvent(str, enum.Enum):
    ROUND_STARTED = "ROUND_STARTED"


class FLIPStandardProdShape:
    """flip-utils' FLIPStandardProd: its hub calls go over HTTP (not here); its other calls stay."""

    def __init__(self) -> None:
        self.constructed = True

    def get_dataframe(self, project_id: str, query: str) -> str:
        return f"dataframe of {project_id}"

    def update_status(self, model_id: str, new_model_status: ModelStatus) -> None:
        raise AssertionError("the hub's HTTP call must not be used")

    def send_metrics(
        self,
        client_name: str,
        model_id: str,
        label: str,
        value: float,
        global_round: int,
        x_value: float | None = None,
        x_label: str | None = None,
    ) -> None:
        raise AssertionError("the hub's HTTP call must not be used")

    def send_handled_exception(
        self, formatted_exception: str, client_name: str | None, model_id: str
    ) -> None:
        raise AssertionError("the hub's HTTP call must not be used")

    def send_event(
        self,
        model_id: str,
        event_type: FLLogEvent,
        global_round: int,
        client_name: str | None = None,
        details: dict[str, Any] | None = None,
        success: bool = True,
    ) -> None:
        raise AssertionError("the hub's HTTP call must not be used")


class FLIPStandardSQS(HubCallsOverSQS, FLIPStandardProdShape):
    pass


@pytest.fixture
def flip(queues: Queues) -> FLIPStandardSQS:
    return FLIPStandardSQS(reporter=FLIPReporter(**queues.urls(), sqs_client=queues.client, run_id="job-12"))


@pytest.mark.parametrize("name", ["update_status", "send_metrics", "send_handled_exception", "send_event"])
def test_each_hub_call_takes_the_arguments_of_flip_utils(name: str) -> None:
    theirs = inspect.signature(getattr(FLIPStandardProdShape, name)).parameters
    ours = inspect.signature(getattr(HubCallsOverSQS, name)).parameters

    assert list(ours)[: len(theirs)] == list(theirs)  # same names, same positions
    for parameter in theirs.values():
        if parameter.default is not inspect.Parameter.empty:
            assert ours[parameter.name].default == parameter.default


def test_the_hub_calls_go_to_the_queues_and_the_rest_stays(flip: FLIPStandardSQS, queues: Queues) -> None:
    assert flip.constructed
    assert flip.get_dataframe("p1", "SELECT 1") == "dataframe of p1"

    # As flip-utils' Flower metrics and NVFLARE components call them:
    flip.send_metrics(
        client_name="Trust_2",
        model_id=MODEL,
        label="TRAIN_LOSS",
        value=0.18,
        global_round=3,
        x_value=12.0,
        x_label="epoch",
    )
    flip.send_metrics("Trust_1", MODEL, "LOSS_FUNCTION", 0.23, 0)
    flip.send_metrics("Trust_1", MODEL, "ACCURACY", 0.81, round=0)  # older flip-utils
    flip.send_event(MODEL, FLLogEvent.ROUND_STARTED, 1, client_name=None, details={"clients": 3})
    flip.send_handled_exception(formatted_exception="Traceback: boom", client_name=None, model_id=MODEL)
    flip.update_status(MODEL, ModelStatus.ERROR)

    metrics = sorted((m["body"] for m in queues.received(queues.metrics)), key=lambda body: body["label"])
    assert [
        (m["label"], m["fl_client_name"], m["global_round"], m.get("x_value"), m.get("x_label"))
        for m in metrics
    ] == [
        ("ACCURACY", "Trust_1", 0, None, None),
        ("LOSS_FUNCTION", "Trust_1", 0, None, None),
        ("TRAIN_LOSS", "Trust_2", 3, 12.0, "epoch"),
    ]
    logs = sorted((m["body"] for m in queues.received(queues.logs)), key=lambda body: "log" in body)
    assert [(b.get("event_type"), b.get("log"), b["success"], b.get("fl_client_name")) for b in logs] == [
        ("ROUND_STARTED", None, True, None),
        (None, "Traceback: boom", False, None),
    ]
    assert [m["body"]["status"] for m in queues.received(queues.status)] == ["ERROR"]


def test_a_bad_argument_is_logged_not_raised(
    flip: FLIPStandardSQS, queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    """FLIPStandardProd raises ValueError on a bad model id; the FL loop must not die of it here."""
    flip.update_status("not-a-uuid", ModelStatus.ERROR)
    flip.send_handled_exception(None, "Trust_1", MODEL)  # type: ignore[arg-type]

    assert [record.getMessage() for record in caplog.records] == [
        "FL status message not sent: model_id: not a valid UUID: 'not-a-uuid'",
        "FL log message not sent: log: must be a string",
    ]
    assert queues.received(queues.status) == queues.received(queues.logs) == []


def test_without_a_reporter_the_queues_come_from_the_environment(
    queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLIP_FL_LOGS_QUEUE_URL", queues.logs)
    monkeypatch.setenv("FLIP_FL_METRICS_QUEUE_URL", queues.metrics)
    monkeypatch.setenv("FLIP_FL_STATUS_QUEUE_URL", queues.status)

    flip = FLIPStandardSQS()
    flip.update_status(MODEL, ModelStatus.RESULTS_UPLOADED)

    assert [m["body"]["status"] for m in queues.received(queues.status)] == ["RESULTS_UPLOADED"]


def test_the_signatures_can_be_read_at_run_time_on_every_supported_python() -> None:
    """Frameworks read a component's type hints; on 3.9, ``X | None`` cannot be evaluated."""
    import typing

    for function in (
        FLIPReporter.__init__,
        FLIPReporter.update_status,
        FLIPReporter.send_metrics,
        FLIPReporter.send_event,
        FLIPReporter.send_handled_exception,
        FLIPReporter.from_environment,
        HubCallsOverSQS.__init__,
        HubCallsOverSQS.send_metrics,
        HubCallsOverSQS.send_event,
        HubCallsOverSQS.send_handled_exception,
    ):
        assert typing.get_type_hints(function)
