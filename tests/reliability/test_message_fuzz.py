"""Message fuzzing (SPEC §5): generated bodies through the three SQS handlers, every one accounted for.

Each example is a batch (1–10 records) of valid messages, messages with one rule broken, and garbage
(random JSON, wrong types, NaN and infinities, huge strings, deep or huge ``details``, unknown models
and FL kit slots), then up to three messages reusing the ``event_id`` of a message applied in this
batch or an earlier one: the same body again (a sender's retry: a redelivery), another body (rejected
as a reused key), or the same key on the other model (its own message, applied). The batch is handled
in-process with the handler's DLQ in moto; then a random part of it is delivered again (same SQS
message id, as after a lost delete). The database being up, nothing may be retried.

Reconciliation, per message: applied (a row for its key: model and ``event_id`` or SQS message id)
xor dead-lettered with a reason, except a reused key, dead-lettered while its key has the first
body's row; valid ones applied, broken ones rejected; the first body applied with a key is the one
its row keeps; no row twice, no other row; sent = applied + rejected.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import Column, func, select
from sqlalchemy.orm import Session

from flip_models.core.rendering import render_log
from flip_models.enums import JobStatus, ModelStatus
from flip_models.fl.outcomes import REUSED_KEY_REASON
from flip_models.store.tables import (
    FLJob,
    FLLogMessage,
    FLLogs,
    FLMetricMessage,
    FLMetrics,
    Model,
    ReceivedStatusMessage,
)
from tests.builders import Given
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.reliability.conftest import DERANDOMIZE, record
from tests.reliability.messages import (
    MAX_LOG_CHARACTERS,
    Body,
    Reuse,
    Site,
    body_from,
    log_bodies,
    metric_bodies,
    reuse,
    sent_as,
    status_bodies,
)
from tests.sqs_events import failed_ids, sqs_event, sqs_record

#: Batches generated per queue.
BATCHES = 120


@dataclass(frozen=True)
class QueueUnderTest:
    function: str
    queue: str
    dead_letter_queue: str
    table: Any  # the table of the queue's keys: model_id, message_id (and row_id: the row's id)
    content: Column[Any]  # what of the body the row keeps (:func:`messages.sent_as`)
    bodies: Callable[[Site], st.SearchStrategy[Body]]

    @property
    def fifo(self) -> bool:
        return self.queue.endswith(".fifo")


def _row_of(keys: Any, queue: QueueUnderTest) -> Any:
    """The join of a key to the row its message wrote."""
    return queue.content.table.c.id == keys.c.row_id


QUEUES = [
    QueueUnderTest(
        "fl_logs",
        "fl-logs-fuzz",
        "fl-logs-dlq-fuzz",
        FLLogMessage.__table__,
        FLLogs.__table__.c.success,
        log_bodies,
    ),
    QueueUnderTest(
        "fl_metrics",
        "fl-metrics-fuzz",
        "fl-metrics-dlq-fuzz",
        FLMetricMessage.__table__,
        FLMetrics.__table__.c.label,
        metric_bodies,
    ),
    QueueUnderTest(
        "fl_status",
        "fl-status-fuzz.fifo",
        "fl-status-dlq-fuzz.fifo",
        ReceivedStatusMessage.__table__,
        ReceivedStatusMessage.__table__.c.status,
        status_bodies,
    ),
]
REUSES: list[Reuse] = ["same body", "other body", "other model"]


@dataclass
class Ledger:
    """What was sent and what became of it."""

    sent: dict[str, Body] = field(default_factory=dict)  # SQS message id → body
    deliveries: Counter[str] = field(default_factory=Counter)
    letters: Counter[str] = field(default_factory=Counter)  # original message id → DLQ copies
    reasons: dict[str, str] = field(default_factory=dict)
    #: (model, event_id) → the first body applied with that key (what a reused key is compared with)
    first_bodies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    reuses: Counter[Reuse] = field(default_factory=Counter)


def keep_first(first_bodies: dict[tuple[str, str], dict[str, Any]], body: Body) -> None:
    """Remember a body that must be applied, by its key, if it is the first with that key."""
    if body.expect == "apply" and body.event_id is not None and body.fields is not None:
        first_bodies.setdefault((body.fields["model_id"], body.event_id), body.fields)


def reused(first_bodies: dict[tuple[str, str], dict[str, Any]], fields: dict[str, Any]) -> Body:
    """A body reusing a key: applied when its key is new or it is the first body again."""
    first = first_bodies.get((fields["model_id"], fields["event_id"]))
    if first is None or first == fields:
        body = body_from(fields, "apply")
        keep_first(first_bodies, body)
        return body
    return body_from(fields, "reject", reused=True)


def group_of(body: Body) -> str:
    try:
        parsed = json.loads(body.text)
        return str(uuid.UUID(str(parsed["model_id"])))
    except Exception:
        return "invalid"


def identity(message_id: str, body: Body) -> tuple[str, str]:
    """The idempotency key of a message: its model with its ``event_id``, else its SQS message id."""
    return group_of(body), body.event_id or message_id


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
    queued = given.model(trusts=[trust_1], status=ModelStatus.PENDING)
    given.job(queued, status=JobStatus.COMPLETED, created=datetime.now(UTC) - timedelta(hours=2))
    given.job(queued, status=JobStatus.QUEUED)
    return Site(model_a.id, model_b.id, queued.id)


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
        # Keys are remembered once the batch is sent: hypothesis may end an example at any draw.
        first_bodies = dict(ledger.first_bodies)
        for body in batch:
            keep_first(first_bodies, body)
        keys = list(first_bodies.values())  # of this batch and every earlier one
        # The same draws whatever the state (hypothesis replays choices), then only what fits.
        picks = data.draw(st.lists(st.tuples(st.integers(0, 10**9), st.sampled_from(REUSES)), max_size=3))
        reuses = picks[: 10 - len(batch)] if keys else []
        reusing = [
            reused(first_bodies, reuse(queue.function, keys[n % len(keys)], how, site, n))
            for n, how in reuses
        ]
        records = []
        for body in [*batch, *reusing]:
            item = sqs_record(body.text, queue=queue.queue, group_id=group_of(body) if queue.fifo else None)
            ledger.sent[item["messageId"]] = body
            records.append(item)
        deliver(records)
        ledger.first_bodies = first_bodies
        ledger.reuses.update(how for _, how in reuses)
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
    table = queue.table
    stored = Counter(
        (str(model_id), key)
        for model_id, key in session.execute(select(table.c.model_id, table.c.message_id))
    )
    kept = {
        (str(model_id), key): content
        for model_id, key, content in session.execute(
            select(table.c.model_id, table.c.message_id, queue.content).select_from(
                table
                if queue.content.table is table
                else table.join(queue.content.table, _row_of(table, queue))
            )
        )
    }
    keys = {message_id: identity(message_id, body) for message_id, body in ledger.sent.items()}
    rejected = {message_id for message_id in ledger.sent if ledger.letters[message_id]}
    applied = {message_id for message_id, key in keys.items() if stored[key] and message_id not in rejected}
    problems = []
    for message_id, body in ledger.sent.items():
        reason = ledger.reasons.get(message_id, "")
        if message_id in rejected and stored[keys[message_id]] and reason != REUSED_KEY_REASON:
            problems.append(f"both: {body.text[:200]!r}")
        elif message_id not in rejected and not stored[keys[message_id]]:
            problems.append(f"neither: {body.text[:200]!r}")
        elif body.expect == "apply" and message_id not in applied:
            problems.append(f"rejected ({reason}): {body.text[:200]!r}")
        elif body.expect == "reject" and message_id not in rejected:
            problems.append(f"applied: {body.text[:200]!r}")
        elif body.reused and reason != REUSED_KEY_REASON:
            problems.append(f"a reused key rejected as {reason!r}: {body.text[:200]!r}")
    assert problems == [], "\n".join(problems[:20])
    for key, fields in ledger.first_bodies.items():  # the first body applied with a key is the one kept
        assert kept[key] == sent_as(queue.function, fields), (key, fields)
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
    assert sum(stored.values()) == len({keys[message_id] for message_id in applied})  # nothing else written
    assert len(ledger.sent) == len(applied) + len(rejected)
    if queue.function == "fl_logs":
        _every_log_row_is_cut_and_renders(session)
    if queue.function == "fl_status":  # the late statuses of an earlier run moved nothing
        assert session.scalar(select(Model.status).where(Model.id == site.queued)) == ModelStatus.PENDING
        jobs = session.scalars(
            select(FLJob.status).where(FLJob.model_id == site.queued).order_by(FLJob.created)
        )
        assert list(jobs) == [JobStatus.COMPLETED, JobStatus.QUEUED]
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
        keys_reused_same_body=ledger.reuses["same body"],
        keys_reused_other_body=ledger.reuses["other body"],
        keys_reused_on_the_other_model=ledger.reuses["other model"],
        rejected_as_reused=sum(ledger.reasons.get(m) == REUSED_KEY_REASON for m in rejected),
        huge_logs=sum(body.huge_log for body in ledger.sent.values()),
        huge_numbers=sum(body.huge_number for body in ledger.sent.values()),
    )


def _every_log_row_is_cut_and_renders(session: Session) -> None:
    """No stored text is over the cut (plus its suffix and an unattributed client's prefix), and
    every row renders (SPEC §3), read back through the driver as the logs route reads it."""
    longest = session.scalar(select(func.max(func.length(FLLogs.log)))) or 0
    assert longest <= MAX_LOG_CHARACTERS + len(" … [cut: 999999 more characters]") + 300
    rows = session.execute(select(FLLogs.log, FLLogs.event_type, FLLogs.global_round, FLLogs.details))
    assert all(isinstance(render_log(*row), str) for row in rows)
