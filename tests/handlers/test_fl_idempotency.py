"""Idempotency of the three FL consumers (SPEC §5): the key is the message's model with its
``event_id`` (else the SQS message id); a key applied before is a plain redelivery when the body is
the same and a dead letter (``event_id: reused with a different body``) when it is not; within a
batch a message follows an earlier one with its key only if that one was applied."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.enums import ModelAuditAction, ModelStatus
from flip_models.fl import statuses
from flip_models.store import db
from flip_models.store.tables import (
    FLLogMessage,
    FLLogs,
    FLMetricMessage,
    FLMetrics,
    Model,
    ReceivedStatusMessage,
    Trust,
)
from tests.builders import Given
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.sqs_events import bodies_event, failed_ids, sqs_event, sqs_record

#: Every test runs with the FL batch statement named (direct) and unnamed (behind a pooler).
pytestmark = pytest.mark.usefixtures("statement_strategy")

REUSED = "event_id: reused with a different body"


@dataclass(frozen=True)
class Keyed:
    """A queue whose messages become rows: a body that differs by ``text``, and the rows stored."""

    function: str
    queue: str
    dead_letter_queue: str
    table: type[FLLogs] | type[FLMetrics]
    body: Callable[..., dict[str, Any]]
    keys: type[FLLogMessage] | type[FLMetricMessage]

    def rows(self, session: Session) -> list[tuple[Any, ...]]:
        """(model, key, text, digest) of every row, in key order; a row without a key has key None."""
        session.expire_all()
        text = self.table.log if self.table is FLLogs else self.table.label  # type: ignore[union-attr]
        return [
            tuple(row)
            for row in session.execute(
                select(self.table.model_id, self.keys.message_id, text, self.keys.message_digest)
                .outerjoin(self.keys, self.keys.row_id == self.table.id)
                .order_by(self.table.model_id, self.keys.message_id)
            )
        ]


def _log(model: Model, text: str, **fields: Any) -> dict[str, Any]:
    return {"model_id": str(model.id), "fl_client_name": "Trust_1", "log": text} | fields


def _metric(model: Model, text: str, **fields: Any) -> dict[str, Any]:
    body = {"model_id": str(model.id), "fl_client_name": "Trust_1", "global_round": 1, "label": text}
    return body | {"result": 0.25} | fields


LOGS = Keyed("fl_logs", "fl-logs-dev", "fl-logs-dlq-test", FLLogs, _log, FLLogMessage)
METRICS = Keyed("fl_metrics", "fl-metrics-dev", "fl-metrics-dlq-test", FLMetrics, _metric, FLMetricMessage)


@pytest.fixture(params=[LOGS, METRICS], ids=["fl_logs", "fl_metrics"])
def keyed(request: pytest.FixtureRequest) -> Keyed:
    kind: Keyed = request.param
    return kind


@pytest.fixture
def models(given: Given) -> tuple[Model, Model]:
    """Two models sharing the trust of FL kit slot ``Trust_1``."""
    trust: Trust = given.trust(code="GSTT", slot="Trust_1")
    return given.model(trusts=[trust]), given.model(trusts=[trust])


@pytest.fixture
def dlq(keyed: Keyed, dead_letter_queue: Callable[[str], DeadLetterQueue]) -> DeadLetterQueue:
    return dead_letter_queue(keyed.dead_letter_queue)


def send(keyed: Keyed, bodies: list[dict[str, Any] | str]) -> list[str]:
    """The batch through the function; returns its SQS message ids (nothing may be retried)."""
    event = bodies_event(bodies, queue=keyed.queue)
    assert failed_ids(invoke(keyed.function, event)) == []
    return [record["messageId"] for record in event["Records"]]


def reasons(dlq: DeadLetterQueue) -> dict[str, tuple[str, str]]:
    return {
        letter["original_message_id"]: (letter["rejection_kind"], letter["rejection_reason"])
        for letter in dlq.letters()
    }


def test_two_models_messages_never_collide_whatever_event_id_they_carry(
    keyed: Keyed, models: tuple[Model, Model], session: Session, dlq: DeadLetterQueue
) -> None:
    """Found from the outside: model B's message with an event_id model A had used was acknowledged
    and dropped, with nothing in any DLQ."""
    a, b = models
    send(keyed, [keyed.body(a, "for A", event_id="round-1:result")])
    send(keyed, [keyed.body(b, "for B", event_id="round-1:result")])

    assert sorted((model, key, text) for model, key, text, _ in keyed.rows(session)) == sorted(
        [(a.id, "round-1:result", "for A"), (b.id, "round-1:result", "for B")]
    )
    assert dlq.letters() == []


def test_a_key_applied_before_is_a_redelivery_with_the_same_body_and_a_dead_letter_with_another(
    keyed: Keyed, models: tuple[Model, Model], session: Session, dlq: DeadLetterQueue
) -> None:
    model, _ = models
    send(keyed, [keyed.body(model, "first", event_id="e-1")])
    same = keyed.body(model, "first", event_id="e-1")
    # The same body in other words: its keys in another order, spaces, an unknown extra field.
    same_in_other_words = json.dumps(dict(reversed(same.items())) | {"fl_server": "2.6"}, indent=2)
    other = keyed.body(model, "second", event_id="e-1")

    ids = send(keyed, [same, same_in_other_words, other])

    [(_, key, text, digest)] = keyed.rows(session)
    assert (key, text) == ("e-1", "first")  # the applied body stays
    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert reasons(dlq) == {ids[2]: ("event_id_reused", REUSED)}


def test_in_one_batch_a_message_follows_an_applied_one_with_its_key_by_body(
    keyed: Keyed, models: tuple[Model, Model], session: Session, dlq: DeadLetterQueue
) -> None:
    model, _ = models
    ids = send(
        keyed,
        [
            keyed.body(model, "first", event_id="e-1"),
            keyed.body(model, "second", event_id="e-1"),
            keyed.body(model, "first", event_id="e-1"),
        ],
    )

    assert [(key, text) for _, key, text, _ in keyed.rows(session)] == [("e-1", "first")]
    assert reasons(dlq) == {ids[1]: ("event_id_reused", REUSED)}


def test_in_one_batch_a_message_whose_key_twin_was_rejected_is_judged_on_its_own(
    keyed: Keyed, models: tuple[Model, Model], session: Session, dlq: DeadLetterQueue
) -> None:
    """Found from the outside: the second was acknowledged as the first's duplicate, and so neither
    stored nor dead-lettered."""
    model, _ = models
    ids = send(
        keyed,
        [
            keyed.body(model, "from an unknown slot", event_id="e-1", fl_client_name="Trust_9"),
            keyed.body(model, "good", event_id="e-1"),
            keyed.body(model, "good again", event_id="e-1"),
        ],
    )

    assert [(key, text) for _, key, text, _ in keyed.rows(session)] == [("e-1", "good")]
    assert reasons(dlq) == {
        ids[0]: ("unknown_fl_client", "fl_client_name: FL client 'Trust_9' resolves to no trust"),
        ids[2]: ("event_id_reused", REUSED),
    }


def test_a_message_whose_key_twin_the_database_refused_is_applied_alone(
    keyed: Keyed, models: tuple[Model, Model], session: Session, dlq: DeadLetterQueue
) -> None:
    model, _ = models
    ids = send(
        keyed,
        [
            keyed.body(model, "refused: nul \x00 byte", event_id="e-1"),
            keyed.body(model, "good", event_id="e-1"),
            keyed.body(model, "another", event_id="e-2"),
        ],
    )

    assert [(key, text) for _, key, text, _ in keyed.rows(session)] == [("e-1", "good"), ("e-2", "another")]
    assert {message_id: kind for message_id, (kind, _) in reasons(dlq).items()} == {
        ids[0]: "database_rejected"
    }


def test_a_failed_text_kept_at_model_level_keeps_its_key_and_digest(
    models: tuple[Model, Model], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = models
    failure = _log(
        model, "Traceback: CUDA out of memory", fl_client_name="Trust_9", success=False, event_id="e-1"
    )
    send(LOGS, [failure])

    ids = send(LOGS, [failure, failure | {"log": "another traceback"}])

    [(_, key, text, digest)] = LOGS.rows(session)
    assert (key, text) == ("e-1", "[unattributed client 'Trust_9'] Traceback: CUDA out of memory")
    assert digest is not None
    assert reasons(logs_dlq) == {ids[1]: ("event_id_reused", REUSED)}


def test_a_key_recorded_without_a_digest_takes_any_body_as_a_redelivery(
    models: tuple[Model, Model], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    """A key recorded without a digest (another writer of the key table) has nothing to compare."""
    model, _ = models
    send(LOGS, [_log(model, "old", event_id="e-1")])
    session.execute(FLLogMessage.__table__.update().values(message_digest=None))
    session.commit()

    send(LOGS, [_log(model, "new", event_id="e-1")])

    assert [(key, text) for _, key, text, _ in LOGS.rows(session)] == [("e-1", "old")]
    assert logs_dlq.letters() == []


def test_a_key_another_batch_commits_while_this_one_waits_is_compared_with_what_it_committed(
    models: tuple[Model, Model], session: Session, engine: Engine, logs_dlq: DeadLetterQueue
) -> None:
    """The statement's own snapshot cannot see a row committed while its insert waited on that key,
    so the key's row is read again."""
    model, _ = models
    row = FLLogs(id=uuid.uuid4(), model_id=model.id, success=True, log="the other batch's")
    session.add(row)
    session.flush()
    session.add(FLLogMessage(model_id=model.id, message_id="e-1", row_id=row.id, message_digest="0" * 64))
    session.flush()  # the key is taken, not yet committed
    sent: list[str] = []
    worker = threading.Thread(target=lambda: sent.extend(send(LOGS, [_log(model, "mine", event_id="e-1")])))
    worker.start()
    _wait_for_a_lock_wait(engine)
    session.commit()
    worker.join(timeout=30)

    assert [text for _, _, text, _ in LOGS.rows(session)] == ["the other batch's"]
    assert reasons(logs_dlq) == {sent[0]: ("event_id_reused", REUSED)}


def _wait_for_a_lock_wait(engine: Engine) -> None:
    """Until a backend of the service (application name ``flip-models``) waits on a lock."""
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'flip-models' AND wait_event_type = 'Lock'"
                )
            )
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the batch never waited on the key")


# --- fl-status.fifo: the requested status is what is compared --------------------------------------

STATUS_QUEUE = "fl-status-dev.fifo"


def status(model: Model, value: str, **fields: Any) -> dict[str, Any]:
    return {"model_id": str(model.id), "status": value} | fields


def send_statuses(bodies: list[dict[str, Any]]) -> list[str]:
    event = bodies_event(bodies, queue=STATUS_QUEUE)  # type: ignore[arg-type]
    assert failed_ids(invoke("fl_status", event)) == []
    return [record["messageId"] for record in event["Records"]]


def model_status(session: Session, model: Model) -> ModelStatus:
    session.expire_all()
    found = session.scalar(select(Model.status).where(Model.id == model.id))
    assert found is not None
    return found


def test_status_keys_are_per_model(given: Given, session: Session, status_dlq: DeadLetterQueue) -> None:
    a, b = given.model(status=ModelStatus.PREPARED), given.model(status=ModelStatus.PREPARED)

    send_statuses([status(a, "RUNNING", event_id="job:RUNNING")])
    send_statuses([status(b, "RUNNING", event_id="job:RUNNING")])

    assert (model_status(session, a), model_status(session, b)) == (ModelStatus.RUNNING, ModelStatus.RUNNING)
    assert status_dlq.letters() == []


def test_a_status_key_reused_for_another_status_is_dead_lettered_the_same_status_is_a_redelivery(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.PREPARED)
    send_statuses([status(model, "RUNNING", event_id="job:7")])

    ids = send_statuses(
        [
            status(model, "training_started", event_id="job:7"),  # the same status, spelled the old way
            status(model, "RESULTS_UPLOADED", event_id="job:7"),
            status(model, "ERROR", event_id="job:8"),
        ]
    )

    assert model_status(session, model) == ModelStatus.ERROR
    letters = status_dlq.letters()
    assert [
        (letter["original_message_id"], letter["rejection_kind"], letter["rejection_reason"])
        for letter in letters
    ] == [(ids[1], "event_id_reused", REUSED)]
    assert letters[0]["group_id"] == str(model.id)
    receipt = session.get(ReceivedStatusMessage, (model.id, "job:7"))
    assert receipt is not None
    assert receipt.status == ModelStatus.RUNNING


def test_a_status_whose_key_twin_was_refused_in_the_batch_is_judged_on_its_own(
    given: Given, session: Session, status_dlq: DeadLetterQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = given.model(status=ModelStatus.PREPARED)
    real_transition = statuses.transition
    calls: list[ModelStatus | None] = []

    def refuses_the_first(locked: Model, new: ModelStatus | None, session: Session) -> ModelStatus:
        calls.append(new)
        if len(calls) == 1:
            raise db.DatabaseError("unexpected database error (SQLSTATE 23514)")
        return real_transition(locked, new, session)

    monkeypatch.setattr(statuses, "transition", refuses_the_first)

    ids = send_statuses(
        [status(model, "RUNNING", event_id="job:7"), status(model, "RUNNING", event_id="job:7")]
    )

    assert model_status(session, model) == ModelStatus.RUNNING
    assert [(letter["original_message_id"], letter["rejection_kind"]) for letter in status_dlq.letters()] == [
        (ids[0], "database_rejected")
    ]
    session.expire_all()
    actions = [entry.action for entry in model_audit_trail(model.id, session)]
    assert actions == [ModelAuditAction.RUNNING]


def test_a_redelivered_record_is_still_a_plain_redelivery(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.PREPARED)
    record = sqs_record(status(model, "RUNNING"), queue=STATUS_QUEUE, group_id=str(model.id))

    invoke("fl_status", sqs_event(record))
    again = invoke("fl_status", sqs_event(record))

    assert failed_ids(again) == []
    assert status_dlq.letters() == []
