"""Each message's fate in the batch summary line (its ``outcomes`` field), which the local stack prints:
``applied``, ``duplicate``, ``dead-lettered: <reason>`` or ``retry: <cause>``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from flip_models.enums import ModelStatus
from flip_models.store.settings import get_settings
from flip_models.store.tables import Model
from tests.builders import Given
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.sqs_events import bodies_event, failed_ids

#: Every test runs with the FL batch statement named (direct) and unnamed (behind a pooler).
pytestmark = pytest.mark.usefixtures("statement_strategy")


def outcomes(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    [summary] = [r for r in caplog.records if r.getMessage() == "FL message batch processed"]
    found: dict[str, str] = summary.__dict__["outcomes"]
    return found


def ids(event: dict[str, Any]) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


def test_applied_duplicate_and_dead_lettered_messages_each_get_their_line(
    given: Given, logs_dlq: DeadLetterQueue, caplog: pytest.LogCaptureFixture
) -> None:
    trust = given.trust(code="GSTT", slot="Trust_1")
    model = given.model(trusts=[trust])
    line = {"model_id": str(model.id), "fl_client_name": "Trust_1", "log": "Loaded.", "event_id": "k1"}
    event_ = {"model_id": str(model.id), "event_type": "ROUND_STARTED"}
    event = bodies_event(
        [
            line,
            line,  # the same key again in the batch
            event_,  # no round
            event_ | {"fl_client_name": "Trust_9", "global_round": 1},
        ],
        queue="fl-logs-dev",
    )

    invoke("fl_logs", event)

    first, again, no_round, stranger = ids(event)
    assert outcomes(caplog) == {
        first: "applied",
        again: "duplicate",
        no_round: "dead-lettered: global_round: required when event_type is set",
        stranger: "dead-lettered: fl_client_name: FL client 'Trust_9' resolves to no trust",
    }


@pytest.fixture
def no_dead_letter_queue(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions have no DLQ: a rejected message cannot be dead-lettered, so it is retried."""
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    get_settings.cache_clear()


def test_a_rejection_that_cannot_reach_the_dead_letter_queue_is_a_retry(
    no_dead_letter_queue: None, caplog: pytest.LogCaptureFixture
) -> None:
    event = bodies_event(["not json"], queue="fl-metrics-dev")

    invoke("fl_metrics", event)

    assert outcomes(caplog) == {ids(event)[0]: "retry: dead-letter queue unavailable"}


def test_in_a_fifo_batch_what_follows_a_failure_is_retried_with_its_cause(
    given: Given, status_dlq: DeadLetterQueue, database_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    status = {"model_id": str(uuid.uuid4()), "status": "RUNNING"}
    event = bodies_event([status, "{"], queue="fl-status-dev.fifo")

    response = invoke("fl_status", event)

    running, broken = ids(event)
    assert failed_ids(response) == [running, broken]
    assert outcomes(caplog) == {
        running: "retry: the database did not answer in time; try again",
        broken: "retry: an earlier message of the FIFO batch failed",  # else it would be dead-lettered
    }


def test_a_fifo_message_applied_behind_a_failed_dead_letter_is_retried_too(
    given: Given, no_dead_letter_queue: None, caplog: pytest.LogCaptureFixture
) -> None:
    model: Model = given.model(status=ModelStatus.PREPARED)
    event = bodies_event(
        [{"model_id": str(model.id), "status": "PENDING"}, {"model_id": str(model.id), "status": "RUNNING"}],
        queue="fl-status-dev.fifo",
    )

    invoke("fl_status", event)

    pending, running = ids(event)
    assert outcomes(caplog) == {
        pending: "retry: dead-letter queue unavailable",
        running: "retry: an earlier message of the FIFO batch failed",
    }
