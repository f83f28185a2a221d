"""The fl-status.fifo function against real PostgreSQL, with a moto FIFO dead-letter queue (SPEC §5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import DatabaseUnavailableError
from flip_models.fl import statuses
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model, ReceivedStatusMessage
from tests.builders import Given
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.sqs_events import bodies_event, failed_ids, sqs_event, sqs_record

QUEUE = "fl-status-dev.fifo"


def status(model: Model, value: str, **fields: Any) -> dict[str, Any]:
    return {"model_id": str(model.id), "status": value} | fields


def record(model: Model, value: str, **fields: Any) -> dict[str, Any]:
    return sqs_record(status(model, value, **fields), queue=QUEUE, group_id=str(model.id))


def status_of(session: Session, model: Model) -> ModelStatus:
    session.expire_all()
    found = session.scalar(select(Model.status).where(Model.id == model.id))
    assert found is not None
    return found


def audit_actions(session: Session, model: Model) -> list[str]:
    return [entry.action for entry in model_audit_trail(model.id, session)]


def hub_lines(session: Session, model: Model) -> list[str | None]:
    return list(
        session.scalars(
            select(FLLogs.log).where(FLLogs.model_id == model.id).order_by(FLLogs.log_date, FLLogs.id)
        )
    )


def test_a_status_is_applied_through_the_service_with_audit_and_hub_line(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.PREPARED)
    message = record(model, "RUNNING")

    response = invoke("fl_status", sqs_event(message))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.RUNNING
    assert audit_actions(session, model) == [ModelAuditAction.RUNNING]
    assert hub_lines(session, model) == ["The job for this model is now running."]
    receipt = session.get(ReceivedStatusMessage, (model.id, message["messageId"]))
    assert receipt is not None
    assert (receipt.status, receipt.result_status) == (ModelStatus.RUNNING, ModelStatus.RUNNING)
    assert status_dlq.letters() == []


def test_legacy_training_started_means_running(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.PREPARED)

    response = invoke("fl_status", sqs_event(record(model, "TRAINING_STARTED")))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.RUNNING
    assert audit_actions(session, model) == [ModelAuditAction.RUNNING]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("PENDING", "status: PENDING is never set by an FL server"),
        ("FINISHED", "status: unknown status 'FINISHED'"),
        (None, "status: must be a string"),
    ],
)
def test_pending_or_an_unknown_status_goes_to_the_fifo_dlq(
    value: str | None, reason: str, given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.RUNNING)
    message = record(model, value)  # type: ignore[arg-type]

    response = invoke("fl_status", sqs_event(message))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.RUNNING
    [letter] = status_dlq.letters()
    assert letter["rejection_reason"] == reason
    assert letter["group_id"] == str(model.id)
    assert letter["deduplication_id"] == message["messageId"]


def test_an_unknown_model_goes_to_the_dlq(given: Given, status_dlq: DeadLetterQueue) -> None:
    missing = uuid.uuid4()
    message = sqs_record({"model_id": str(missing), "status": "RUNNING"}, queue=QUEUE, group_id=str(missing))

    response = invoke("fl_status", sqs_event(message))

    assert failed_ids(response) == []
    [letter] = status_dlq.letters()
    assert letter["rejection_kind"] == "unknown_model"
    assert letter["group_id"] == str(missing)


def test_a_body_without_a_readable_model_is_dead_lettered_in_the_invalid_group(
    status_dlq: DeadLetterQueue,
) -> None:
    message = sqs_record("not json", queue=QUEUE, group_id="whatever")

    response = invoke("fl_status", sqs_event(message))

    assert failed_ids(response) == []
    [letter] = status_dlq.letters()
    assert letter["group_id"] == "invalid"
    assert letter["rejection_reason"].startswith("body: not valid JSON")


def test_a_late_status_is_acknowledged_and_changes_nothing(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.ERROR)
    message = record(model, "RUNNING")

    response = invoke("fl_status", sqs_event(message))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.ERROR
    assert audit_actions(session, model) == []
    assert hub_lines(session, model) == []
    receipt = session.get(ReceivedStatusMessage, (model.id, message["messageId"]))
    assert receipt is not None
    assert receipt.result_status == ModelStatus.ERROR  # what the model had afterwards
    assert status_dlq.letters() == []


def test_a_stopped_model_ignores_late_callbacks(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.STOPPED)

    response = invoke(
        "fl_status", bodies_event([status(model, "RUNNING"), status(model, "ERROR")], queue=QUEUE)
    )

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.STOPPED
    assert audit_actions(session, model) == []


def test_flower_error_then_results_uploaded_applies_both_and_releases_the_scheduler_once(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.RUNNING)
    job = given.job(model)
    scheduler = given.busy_scheduler(job)

    response = invoke(
        "fl_status", bodies_event([status(model, "ERROR"), status(model, "RESULTS_UPLOADED")], queue=QUEUE)
    )

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED
    assert audit_actions(session, model) == [StatusAuditAction.ERROR, ModelAuditAction.RESULTS_UPLOADED]
    session.expire_all()
    assert session.get(FLJob, job.id).status == JobStatus.COMPLETED  # type: ignore[union-attr]
    released = session.get(FLScheduler, scheduler.id)
    assert released is not None
    assert (released.status, released.job_id) == (NetStatus.AVAILABLE, None)


def test_a_run_reported_in_one_batch_is_applied_in_order(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.PENDING)
    given.job(model, status=JobStatus.IN_PROGRESS)  # the hub handed its job to an FL net
    run = ["INITIATED", "PREPARED", "RUNNING", "RESULTS_UPLOADED"]

    response = invoke("fl_status", bodies_event([status(model, s) for s in run], queue=QUEUE))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED
    assert audit_actions(session, model) == [
        ModelAuditAction.PREPARED,
        ModelAuditAction.RUNNING,
        ModelAuditAction.RESULTS_UPLOADED,
    ]


def test_a_redelivered_status_is_not_applied_twice(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    # A new run (INITIATED) after results is a real transition every time it arrives, so only the
    # idempotency record stops a redelivery from starting a second run.
    model = given.model(status=ModelStatus.RESULTS_UPLOADED)
    new_run = record(model, "INITIATED")
    results = record(model, "RESULTS_UPLOADED")

    responses = [
        invoke("fl_status", sqs_event(new_run)),
        invoke("fl_status", sqs_event(results)),
        invoke("fl_status", sqs_event(new_run)),  # redelivered: same SQS message id
    ]

    assert all(failed_ids(response) == [] for response in responses)
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED
    assert (
        hub_lines(session, model).count(
            "This model has been selected from the queue and will be prepared to run."
        )
        == 1
    )


def test_the_same_event_id_is_applied_once(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model = given.model(status=ModelStatus.RESULTS_UPLOADED)
    new_run = status(model, "INITIATED", event_id="job-8:INITIATED")

    first = invoke("fl_status", bodies_event([new_run], queue=QUEUE))
    invoke("fl_status", bodies_event([status(model, "RESULTS_UPLOADED")], queue=QUEUE))
    again = invoke("fl_status", bodies_event([new_run], queue=QUEUE))  # a new SQS message, same event

    assert failed_ids(first) == failed_ids(again) == []
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED
    assert session.get(ReceivedStatusMessage, (model.id, "job-8:INITIATED")) is not None


def test_database_unreachable_fails_every_record_and_dead_letters_nothing(
    given: Given, status_dlq: DeadLetterQueue, database_down: None
) -> None:
    model = given.model(status=ModelStatus.PREPARED)
    event = bodies_event([status(model, "RUNNING"), status(model, "ERROR")], queue=QUEUE)

    response = invoke("fl_status", event)

    assert failed_ids(response) == [r["messageId"] for r in event["Records"]]
    assert status_dlq.letters() == []


def test_after_a_transient_failure_nothing_later_in_the_batch_is_acknowledged(
    given: Given, session: Session, status_dlq: DeadLetterQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = given.model(status=ModelStatus.INITIATED)
    other = given.model(status=ModelStatus.PREPARED)
    real_transition = statuses.transition

    def flaky(locked: Model, new: ModelStatus | None, session: Session) -> ModelStatus:
        if new == ModelStatus.ERROR:
            raise DatabaseUnavailableError("the database did not answer in time; try again")
        return real_transition(locked, new, session)

    monkeypatch.setattr(statuses, "transition", flaky)
    event = bodies_event(
        [
            status(model, "PREPARED"),
            status(model, "RUNNING"),
            status(model, "ERROR"),
            status(model, "RESULTS_UPLOADED"),
            status(other, "RUNNING"),
            "not json",  # would be rejected, but comes after the failure: retried, not dead-lettered
        ],
        queue=QUEUE,
    )
    ids = [r["messageId"] for r in event["Records"]]

    response = invoke("fl_status", event)

    assert failed_ids(response) == ids[2:]
    assert status_of(session, model) == ModelStatus.RUNNING  # what came before the failure is kept
    assert status_of(session, other) == ModelStatus.PREPARED
    assert status_dlq.letters() == []

    monkeypatch.setattr(statuses, "transition", real_transition)
    retried = {"Records": [r for r in event["Records"] if r["messageId"] in failed_ids(response)]}
    second = invoke("fl_status", retried)

    assert failed_ids(second) == []
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED
    assert audit_actions(session, model) == [
        ModelAuditAction.PREPARED,
        ModelAuditAction.RUNNING,
        StatusAuditAction.ERROR,
        ModelAuditAction.RESULTS_UPLOADED,
    ]
    assert [letter["rejection_reason"][:5] for letter in status_dlq.letters()] == ["body:"]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_body_nested_too_deep_is_dead_lettered_at_once_and_blocks_nothing(
    depth: int, given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    """Found by the message fuzzer: reading the model id of such a body for the FIFO group raised
    RecursionError, so the record (and every later one of the batch) was retried until SQS gave up."""
    model = given.model(status=ModelStatus.RUNNING)
    deep = f'{{"model_id": "{model.id}", "status": {"[" * depth}"ERROR"{"]" * depth}}}'
    poison = sqs_record(deep, queue=QUEUE, group_id=str(model.id))
    after = sqs_record(status(model, "RESULTS_UPLOADED"), queue=QUEUE, group_id=str(model.id))

    response = invoke("fl_status", sqs_event(poison, after))

    assert failed_ids(response) == []
    [letter] = status_dlq.letters()
    assert letter["rejection_reason"].startswith("body: not valid JSON")
    assert letter["original_message_id"] == poison["messageId"]
    assert status_of(session, model) == ModelStatus.RESULTS_UPLOADED


def _queued_again_after(given: Given, session: Session, end: str) -> tuple[Model, FLJob, FLJob]:
    """A model whose run ended (``end``: a person's stop, or the sweep's ERROR), reset to PENDING by a
    person and queued again by the hub: its old job COMPLETED, a new one QUEUED."""
    from tests.handlers.api_world import build_world

    world = build_world(given, status=ModelStatus.RUNNING)
    old = given.job(world.model, status=JobStatus.IN_PROGRESS, roster=world.trusts)
    given.busy_scheduler(old)
    path = {"modelId": str(world.model.id)}
    if end == "STOPPED":
        stopped = world.owner.call(
            "update_model_status", "PATCH", "/model/{modelId}/status/{status}", path | {"status": "STOPPED"}
        )
        assert stopped.status == 200
    else:
        assert failed_ids(invoke("fl_status", sqs_event(record(world.model, "ERROR")))) == []
    reset = world.owner.call(
        "update_model_status", "PATCH", "/model/{modelId}/status/{status}", path | {"status": "PENDING"}
    )
    assert (reset.status, reset.body) == (200, {"status": "PENDING", "changed": True})
    new = given.job(world.model, status=JobStatus.QUEUED)
    session.expire_all()
    return world.model, old, new


@pytest.mark.parametrize("end", ["STOPPED", "ERROR"])
@pytest.mark.parametrize("late", ["RUNNING", "RESULTS_UPLOADED", "RESULTS_UPLOAD_FAILED", "ERROR", "STOPPED"])
def test_a_late_status_of_an_earlier_run_never_moves_a_model_waiting_in_the_queue(
    given: Given, session: Session, status_dlq: DeadLetterQueue, end: str, late: str
) -> None:
    """Issue 22 item 1: from PENDING a background status applies only while the newest job has been
    handed to an FL net; here the newest job is QUEUED, so the old run's late message changes nothing."""
    model, old, new = _queued_again_after(given, session, end)
    lines_before = hub_lines(session, model)

    response = invoke(
        "fl_status", bodies_event([status(model, late, event_id=f"old-run:{late}")], queue=QUEUE)
    )

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.PENDING
    session.expire_all()
    assert session.get(FLJob, new.id).status == JobStatus.QUEUED  # still in the queue
    assert session.get(FLJob, old.id).status == JobStatus.COMPLETED
    assert hub_lines(session, model) == lines_before
    assert status_dlq.letters() == []  # acknowledged, not rejected: it is a late message, not a bad one


def test_once_the_hub_hands_the_new_job_to_a_net_the_new_run_s_statuses_apply(
    given: Given, session: Session, status_dlq: DeadLetterQueue
) -> None:
    model, _old, new = _queued_again_after(given, session, "STOPPED")
    session.execute(FLJob.__table__.update().where(FLJob.id == new.id).values(status=JobStatus.IN_PROGRESS))
    session.commit()

    response = invoke("fl_status", bodies_event([status(model, "PREPARED")], queue=QUEUE))

    assert failed_ids(response) == []
    assert status_of(session, model) == ModelStatus.PREPARED


def test_a_release_never_completes_a_queued_job(given: Given, session: Session) -> None:
    """A run ends (ERROR) while a newer job of the model is only QUEUED: the run's IN_PROGRESS job is
    completed and its scheduler freed; the queued job stays in the queue."""
    model = given.model(status=ModelStatus.RUNNING)
    running = given.job(model, status=JobStatus.IN_PROGRESS)
    scheduler = given.busy_scheduler(running)
    queued = given.job(model, status=JobStatus.QUEUED)

    assert failed_ids(invoke("fl_status", sqs_event(record(model, "ERROR")))) == []

    session.expire_all()
    assert session.get(FLJob, running.id).status == JobStatus.COMPLETED
    assert session.get(FLJob, queued.id).status == JobStatus.QUEUED
    assert session.get(FLScheduler, scheduler.id).status == NetStatus.AVAILABLE
