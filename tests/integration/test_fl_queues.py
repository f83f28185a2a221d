"""The FL queues in a real LocalStack SQS, fed to the handlers by a Lambda-like poller (SPEC §5).

Queues come from template.yaml (attributes, FIFO, redrive policy and maxReceiveCount, batch size);
only the visibility timeout is shortened (``VISIBILITY_TIMEOUT``) so that redelivery takes seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, StatusAuditAction
from flip_models.errors import DatabaseUnavailableError
from flip_models.fl import statuses
from flip_models.store import db
from flip_models.store.tables import FLLogs, FLMetrics, Model, ModelTrustIntersect
from tests.builders import Given, message_key_of
from tests.integration.conftest import VISIBILITY_TIMEOUT
from tests.integration.template_queues import FLQueuePair, PollResult, poll_once
from tests.sqs_events import metric_body, text_log_body

pytestmark = pytest.mark.localstack

Queues = Callable[[str], FLQueuePair]


def count(session: Session, column: Any, model: Model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(column.table).where(column == model.id)) or 0


def audit_actions(session: Session, model: Model) -> list[str]:
    session.expire_all()
    return [entry.action for entry in model_audit_trail(model.id, session)]


def settle(pair: FLQueuePair, *, timeout: float = 60) -> list[PollResult]:
    """Poll like Lambda until the queue holds nothing, visible or in flight; the non-empty polls."""
    polls: list[PollResult] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = poll_once(pair)
        if result.received:
            polls.append(result)
        elif pair.visible_and_in_flight() == (0, 0):
            return polls
    raise AssertionError(f"queue not settled after {timeout}s: {pair.visible_and_in_flight()}")


@pytest.fixture
def site(given: Given) -> Model:
    trust = given.trust(code="GSTT", slot="Trust_1")
    return given.model(trusts=[trust], status=ModelStatus.RUNNING)


@pytest.fixture
def database_switch(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Callable[[bool], None]:
    """``database_switch(False)`` makes the database unreachable for the handlers; ``True`` restores it."""

    def switch(up: bool) -> None:
        monkeypatch.setenv(
            "DATABASE_URL", database_url if up else "postgresql://postgres@127.0.0.1:1/nothing"
        )
        db.reset_engine()

    return switch


def test_the_queues_are_created_as_the_template_defines_them(fl_queues: Queues) -> None:
    for function, fifo in (("fl_logs", False), ("fl_metrics", False), ("fl_status", True)):
        pair = fl_queues(function)
        attributes = pair.sqs.get_queue_attributes(QueueUrl=pair.queue.url, AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive == {"deadLetterTargetArn": pair.dead_letter_queue.arn, "maxReceiveCount": 5}
        assert attributes["VisibilityTimeout"] == str(VISIBILITY_TIMEOUT)
        assert (attributes.get("FifoQueue") == "true") is fifo
        assert pair.dead_letter_queue.fifo is fifo
        if fifo:
            assert attributes["ContentBasedDeduplication"] == "false"


def test_a_transient_failure_is_redelivered_after_the_visibility_timeout_and_applied_once(
    fl_queues: Queues, site: Model, session: Session, database_switch: Callable[[bool], None]
) -> None:
    pair = fl_queues("fl_logs")
    sent = [pair.send(text_log_body(site.id, n)) for n in range(3)]

    database_switch(False)
    down = poll_once(pair)
    assert sorted(down.received) == sorted(sent)
    assert sorted(down.failed) == sorted(sent)  # every record reported, none acknowledged
    assert poll_once(pair, wait_seconds=0).received == []  # invisible until the timeout passes

    database_switch(True)
    time.sleep(VISIBILITY_TIMEOUT)
    polls = settle(pair)

    assert sorted(id_ for poll in polls for id_ in poll.received) == sorted(sent)
    assert all(pair.receive_counts[id_] == 2 for id_ in sent)
    assert count(session, FLLogs.model_id, site) == 3
    assert pair.dead_letters() == []


def test_a_message_whose_deletion_was_lost_is_delivered_again_and_not_applied_twice(
    fl_queues: Queues, site: Model, session: Session
) -> None:
    pair = fl_queues("fl_metrics")
    sent = pair.send(metric_body(site.id, 0))

    crashed = poll_once(pair, delete=False)  # applied, but the poller died before deleting it
    assert crashed.received == [sent]
    assert crashed.failed == []
    time.sleep(VISIBILITY_TIMEOUT)
    settle(pair)

    assert pair.receive_counts[sent] == 2
    assert count(session, FLMetrics.model_id, site) == 1


def test_a_message_failing_max_receive_count_times_ends_in_the_dlq(
    fl_queues: Queues, site: Model, session: Session, database_switch: Callable[[bool], None]
) -> None:
    pair = fl_queues("fl_metrics")
    body = metric_body(site.id, 3)
    sent = pair.send(body)

    database_switch(False)
    polls = settle(pair, timeout=90)

    assert [poll.received for poll in polls] == [[sent]] * pair.definition.max_receive_count
    assert all(poll.failed == [sent] for poll in polls)
    [letter] = pair.dead_letters()
    assert letter["message_id"] == sent  # moved by SQS's redrive policy, not by the function
    assert json.loads(letter["body"]) == body
    assert "rejection_reason" not in letter
    database_switch(True)
    assert count(session, FLMetrics.model_id, site) == 0


@pytest.mark.parametrize(
    ("function", "bad", "reason"),
    [
        ("fl_logs", {"fl_client_name": None, "log": None, "event_type": "ROUND_STARTED"}, "global_round:"),
        (
            "fl_metrics",
            {"fl_client_name": "Trust_1", "global_round": -1, "label": "L", "result": 1},
            "global_round:",
        ),
        ("fl_status", {"status": "PENDING"}, "status: PENDING"),
    ],
)
def test_a_rejected_message_is_in_the_dlq_with_its_reason_and_gone_from_the_queue(
    function: str, bad: dict[str, Any], reason: str, fl_queues: Queues, site: Model, session: Session
) -> None:
    pair = fl_queues(function)
    body = {"model_id": str(site.id)} | bad
    sent = pair.send(body, group_id=str(site.id), dedup_id="bad-1")

    polls = settle(pair)

    assert polls[0].received == [sent]
    assert polls[0].failed == []
    [letter] = pair.dead_letters()
    assert letter["rejection_reason"].startswith(reason)
    assert letter["original_message_id"] == sent
    assert json.loads(letter["body"]) == body
    if pair.queue.fifo:
        assert letter["group_id"] == str(site.id)


def test_fifo_keeps_each_model_in_order_across_batches_and_after_a_failure(
    fl_queues: Queues, given: Given, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = fl_queues("fl_status")
    models = [given.model(status=ModelStatus.PENDING) for _ in range(3)]
    for model in models:  # the hub handed each model's job to an FL net: its run's statuses apply
        given.job(model, status=JobStatus.IN_PROGRESS)
    run = ["INITIATED", "PREPARED", "TRAINING_STARTED", "ERROR", "RESULTS_UPLOADED"]
    for status in run:  # interleaved models, each in order: 15 messages, more than one batch of 10
        for model in models:
            pair.send(
                {"model_id": str(model.id), "status": status, "event_id": f"{model.id}:{status}"},
                group_id=str(model.id),
                dedup_id=f"{model.id}:{status}",
            )
    real_transition = statuses.transition
    failures: list[uuid.UUID] = []

    def flaky(locked: Model, new: ModelStatus | None, session: Session) -> ModelStatus:
        if locked.id == models[0].id and new == ModelStatus.ERROR and not failures:
            failures.append(locked.id)
            raise DatabaseUnavailableError("the database did not answer in time; try again")
        return real_transition(locked, new, session)

    monkeypatch.setattr(statuses, "transition", flaky)

    polls = settle(pair, timeout=90)

    assert failures == [models[0].id]
    assert len(polls) >= 2
    assert any(poll.failed for poll in polls)
    for model in models:
        session.expire_all()
        assert (
            session.scalar(select(Model.status).where(Model.id == model.id)) == ModelStatus.RESULTS_UPLOADED
        )
        # Had RESULTS_UPLOADED overtaken the failed ERROR, ERROR would have been ignored (no audit row).
        assert audit_actions(session, model) == [
            ModelAuditAction.PREPARED,
            ModelAuditAction.RUNNING,
            StatusAuditAction.ERROR,
            ModelAuditAction.RESULTS_UPLOADED,
        ]
    assert pair.dead_letters() == []


def test_a_rejected_message_redriven_by_the_message_move_task_is_applied_once_its_cause_is_fixed(
    fl_queues: Queues, site: Model, given: Given, session: Session
) -> None:
    pair = fl_queues("fl_logs")
    body = {
        "model_id": str(site.id),
        "fl_client_name": "Trust_7",  # a site whose FL kit slot is not registered yet
        "event_type": "CLIENT_RESULT_RECEIVED",
        "global_round": 1,
        "details": {"size_bytes": 1024},
        "event_id": "job-3:round-1:Trust_7:result",
    }
    pair.send(body)
    settle(pair)
    assert count(session, FLLogs.model_id, site) == 0

    # The operator registers the slot for a trust of the model, then redrives as the README says.
    trust = given.trust(code="KCH", slot="Trust_7")
    session.add(ModelTrustIntersect(model_id=site.id, trust_id=trust.id))
    session.commit()
    task = pair.sqs.start_message_move_task(
        SourceArn=pair.dead_letter_queue.arn, DestinationArn=pair.queue.arn
    )
    assert task["TaskHandle"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [status] = pair.sqs.list_message_move_tasks(SourceArn=pair.dead_letter_queue.arn)["Results"][:1]
        if status["Status"] != "RUNNING":
            break
        time.sleep(0.5)
    assert status["Status"] == "COMPLETED", status
    settle(pair)

    session.expire_all()
    [row] = session.scalars(select(FLLogs).where(FLLogs.model_id == site.id)).all()
    assert (row.trust, message_key_of(session, row)) == (trust.id, "job-3:round-1:Trust_7:result")
    assert pair.dead_letters() == []
