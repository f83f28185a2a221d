"""Message fuzzing (SPEC §5): generated bodies through the three SQS handlers, every one accounted for.

Each example is a batch (1–10 records) of valid messages, messages with one rule broken, and garbage
(random JSON, wrong types, NaN and infinities, huge strings, deep or huge ``details``, unknown models
and FL kit slots), handled in-process with the handler's DLQ in moto; then a random part of the batch
is delivered again (same SQS message id, as after a lost delete). The database being up, nothing
may be retried. Reconciliation, per message: applied (its row, by idempotency key) xor dead-lettered
(with a reason); valid ones applied, broken ones rejected; no row twice; sent = applied + rejected.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import Column, func, select
from sqlalchemy.orm import Session

from flip_models.enums import ModelStatus
from flip_models.store.tables import FLLogs, FLMetrics, ReceivedStatusMessage
from tests.builders import Given
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.reliability.conftest import DERANDOMIZE, record
from tests.reliability.messages import Body, Site, log_bodies, metric_bodies, status_bodies
from tests.sqs_events import failed_ids, sqs_event, sqs_record

#: Batches generated per queue.
BATCHES = 120


@dataclass(frozen=True)
class QueueUnderTest:
    function: str
    queue: str
    dead_letter_queue: str
    key_column: Column[Any]
    bodies: Callable[[Site], st.SearchStrategy[Body]]

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")


QUEUES = [
    QueueUnderTest("fl_logs", "fl-logs-fuzz", "fl-logs-dlq-fuzz", FLLogs.__table__.c.message_id, log_bodies),
    QueueUnderTest(
        "fl_metrics",
        "fl-metrics-fuzz",
        "fl-metrics-dlq-fuzz",
        FLMetrics.__table__.c.message_id,
        metric_bodies,
    ),
    QueueUnderTest(
        "fl_status",
        "fl-status-fuzz.fifo",
        "fl-status-dlq-fuzz.fifo",
        ReceivedStatusMessage.__table__.c.message_id,
        status_bodies,
    ),
]


@dataclass
class Ledger:
    """What was sent and what became of it."""

    sent: dict[str, Body] = field(default_factory=dict)  # SQS message id → body
    deliveries: Counter[str] = field(default_factory=Counter)
    letters: Counter[str] = field(default_factory=Counter)  # original message id → DLQ copies
    reasons: dict[str, str] = field(default_factory=dict)


def group_of(body: Body) -> str:
    try:
        parsed = json.loads(body.text)
        return str(uuid.UUID(str(parsed["model_id"])))
    except Exception:
        return "invalid"


def drain(dlq: DeadLetterQueue) -> list[dict[str, str]]:
    """Read and delete every letter (a FIFO group stays blocked while one of its letters is unread)."""
    found = []
    while True:
        messages = dlq.client.receive_message(
            QueueUrl=dlq.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            found.append({name: value["StringValue"] for name, value in attributes.items()})
            dlq.client.delete_message(QueueUrl=dlq.url, ReceiptHandle=message["ReceiptHandle"])


def build_site(given: Given) -> Site:
    trust_1 = given.trust(code="GSTT", slot="Trust_1")
    trust_2 = given.trust(code="KCH", slot="Trust_2")
    given.slot("Trust_9")  # a slot assigned to no trust
    model_a = given.model(trusts=[trust_1], status=ModelStatus.RUNNING)
    model_b = given.model(trusts=[trust_1, trust_2], status=ModelStatus.PENDING)
    return Site(model_a.id, model_b.id)


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.function)
def test_every_generated_message_is_applied_once_or_dead_lettered_with_a_reason(
    queue: QueueUnderTest,
    given: Given,
    session: Session,
    dead_letter_queue: Callable[[str], DeadLetterQueue],
) -> None:
    site = build_site(given)
    dlq = dead_letter_queue(queue.dead_letter_queue)
    ledger = Ledger()

    def deliver(records: list[dict[str, Any]]) -> None:
        for item in records:
            ledger.deliveries[item["messageId"]] += 1
        response = invoke(queue.function, sqs_event(*records))
        assert failed_ids(response) == [], "the database is up: nothing may be retried"

    @settings(
        max_examples=BATCHES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(batch=st.lists(queue.bodies(site), min_size=1, max_size=10), data=st.data())
    def batches(batch: list[Body], data: st.DataObject) -> None:
        records = []
        for body in batch:
            item = sqs_record(body.text, queue=queue.queue, group_id=group_of(body) if queue.fifo else None)
            ledger.sent[item["messageId"]] = body
            records.append(item)
        deliver(records)
        again = data.draw(st.lists(st.sampled_from(records), max_size=len(records), unique_by=id))
        if again:  # the same messages once more (a lost delete); FIFO keeps their order
            order = {id(item): index for index, item in enumerate(records)}
            deliver(
                [
                    dict(item, receiptHandle=f"AQEB{uuid.uuid4().hex}")
                    for item in sorted(again, key=lambda i: order[id(i)])
                ]
            )
        for letter in drain(dlq):
            ledger.letters[letter["original_message_id"]] += 1
            ledger.reasons[letter["original_message_id"]] = letter.get("rejection_reason", "")

    batches()

    session.expire_all()
    keys = {message_id: body.event_id or message_id for message_id, body in ledger.sent.items()}
    stored = Counter(
        session.scalars(select(queue.key_column).where(queue.key_column.in_(set(keys.values())))).all()
    )
    rows = session.scalar(select(func.count()).select_from(queue.key_column.table)) or 0
    applied = {message_id for message_id, key in keys.items() if stored[key]}
    rejected = {message_id for message_id in ledger.sent if ledger.letters[message_id]}
    problems = []
    for message_id, body in ledger.sent.items():
        if (message_id in applied) == (message_id in rejected):
            problems.append(f"{'both' if message_id in applied else 'neither'}: {body.text[:200]!r}")
        elif body.expect == "apply" and message_id not in applied:
            problems.append(f"rejected ({ledger.reasons[message_id]}): {body.text[:200]!r}")
        elif body.expect == "reject" and message_id not in rejected:
            problems.append(f"applied: {body.text[:200]!r}")
    assert problems == [], "\n".join(problems[:20])
    for message_id in rejected:
        reason = ledger.reasons[message_id]
        assert reason, message_id
        assert len(reason) <= 256
        assert "Traceback" not in reason
        # One letter per delivery of a rejected message: SQS's own at-least-once, never more. A FIFO
        # DLQ drops the copies by deduplication id (the original message id).
        assert ledger.letters[message_id] == (1 if queue.fifo else ledger.deliveries[message_id])
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    assert duplicated == 0
    assert rows == len({keys[message_id] for message_id in applied})  # nothing else written
    assert len(ledger.sent) == len(applied) + len(rejected)
    record(
        f"message_fuzzing.{queue.function}",
        sent=len(ledger.sent),
        deliveries=sum(ledger.deliveries.values()),
        redelivered=sum(ledger.deliveries.values()) - len(ledger.sent),
        applied=len(applied),
        rejected=len(rejected),
        duplicated=duplicated,
        valid=sum(body.expect == "apply" for body in ledger.sent.values()),
        broken=sum(body.expect == "reject" for body in ledger.sent.values()),
        garbage=sum(body.expect == "either" for body in ledger.sent.values()),
        dlq_copies_from_redelivery=sum(ledger.letters.values()) - len(rejected),
    )
