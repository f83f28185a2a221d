"""The fl-logs function against real PostgreSQL, with moto as its dead-letter queue (SPEC §5)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.store.tables import FLLogs, Model, Trust
from tests.builders import Given, message_key_of
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.round_trips import counting_round_trips
from tests.sqs_events import bodies_event, failed_ids, sqs_event, sqs_record

#: Every test runs with the FL batch statement named (direct) and unnamed (behind a pooler).
pytestmark = pytest.mark.usefixtures("statement_strategy")

QUEUE = "fl-logs-dev"


@pytest.fixture
def site(given: Given) -> tuple[Model, Trust]:
    """A model with one trust on FL kit slot ``Trust_1``."""
    trust = given.trust(code="GSTT", slot="Trust_1")
    return given.model(trusts=[trust]), trust


def logs(session: Session, model: Model) -> list[FLLogs]:
    session.expire_all()
    return list(session.scalars(select(FLLogs).where(FLLogs.model_id == model.id).order_by(FLLogs.log_date)))


def text_log(model: Model, **fields: Any) -> dict[str, Any]:
    return {"model_id": str(model.id), "fl_client_name": "Trust_1", "log": "Loaded 1,204 images."} | fields


def event_log(model: Model, **fields: Any) -> dict[str, Any]:
    body = {
        "model_id": str(model.id),
        "fl_client_name": "Trust_1",
        "log": None,
        "event_type": "CLIENT_RESULT_RECEIVED",
        "global_round": 2,
        "details": {"size_bytes": 2_411_724},
        "success": True,
    }
    return body | fields


def test_a_text_line_is_stored_for_the_client_trust_keyed_by_the_sqs_message_id(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, trust = site
    record = sqs_record(text_log(model), queue=QUEUE, sent_at_ms=1_790_000_000_123)

    response = invoke("fl_logs", sqs_event(record))

    assert failed_ids(response) == []
    [row] = logs(session, model)
    assert (row.trust, row.fl_client_name, row.log, row.success) == (
        trust.id,
        "Trust_1",
        "Loaded 1,204 images.",
        True,
    )
    assert message_key_of(session, row) == record["messageId"]
    # Dated when the service wrote it (the database's clock), as FLIP dates its rows: not when sent.
    assert row.log_date is not None
    assert row.log_date > datetime.fromtimestamp(1_790_000_000.123, UTC)
    assert logs_dlq.letters() == []


def test_typed_events_from_nvflare_and_flower_are_stored_with_their_details(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, trust = site
    bodies = [
        # hub-attributed round start (no client)
        event_log(
            model,
            fl_client_name=None,
            event_type="ROUND_STARTED",
            global_round=1,
            details={"total_rounds": 5},
        ),
        # round-less waiting event with its real details
        event_log(
            model,
            event_type="JOB_WAITING_FOR_RESOURCES",
            global_round=None,
            details={
                "attempt": 2,
                "max_attempts": 5,
                "final": False,
                "requested": {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 16},
            },
        ),
        # an evaluation reply: null details
        event_log(model, global_round=1, details=None),
        # an event type this service does not know is stored as it is
        event_log(model, event_type="CLIENT_EVALUATED", global_round=1, details={"auc": 0.91}),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    rows = logs(session, model)
    assert [(r.event_type, r.global_round, r.trust, r.details) for r in rows] == [
        ("ROUND_STARTED", 1, None, {"total_rounds": 5}),
        (
            "JOB_WAITING_FOR_RESOURCES",
            None,
            trust.id,
            {
                "attempt": 2,
                "max_attempts": 5,
                "final": False,
                "requested": {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 16},
            },
        ),
        ("CLIENT_RESULT_RECEIVED", 1, trust.id, None),
        ("CLIENT_EVALUATED", 1, trust.id, {"auc": 0.91}),
    ]
    assert all(r.log is None for r in rows)
    assert logs_dlq.letters() == []


def test_old_images_sending_only_a_client_and_a_line_and_extra_fields_are_accepted(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    old = {"model_id": str(model.id), "fl_client_name": "Trust_1", "log": "hello"}
    newer = text_log(model, log="with an extra field", fl_backend_version="2.6.0")

    response = invoke("fl_logs", bodies_event([old, newer], queue=QUEUE))

    assert failed_ids(response) == []
    assert [r.log for r in logs(session, model)] == ["hello", "with an extra field"]


def _rule_cases() -> list[tuple[str, dict[str, Any], str]]:
    return [
        (
            "both log and event",
            {"log": "x", "event_type": "ROUND_STARTED", "global_round": 1},
            "log, event_type:",
        ),
        ("neither log nor event", {"log": None, "event_type": None}, "log, event_type:"),
        (
            "blank event type",
            {"log": None, "event_type": "   ", "global_round": 1},
            "event_type: must not be blank",
        ),
        (
            "event type too long",
            {"log": None, "event_type": "E" * 65, "global_round": 1},
            "event_type: at most 64",
        ),
        (
            "hub-reserved event",
            {"log": None, "event_type": "QUEUE_POSITION", "global_round": 1},
            "QUEUE_POSITION",
        ),
        (
            "event without a round",
            {"log": None, "event_type": "ROUND_STARTED", "global_round": None},
            "global_round: required when event_type is set",
        ),
        (
            "round 0 for an event",
            {"log": None, "event_type": "ROUND_STARTED", "global_round": 0},
            "global_round:",
        ),
        (
            "round too large for an event",
            {"log": None, "event_type": "ROUND_STARTED", "global_round": 2_147_483_648},
            "global_round:",
        ),
        ("details too large", {"details": {"blob": "x" * 8200}}, "details:"),
        ("details not an object", {"details": [1, 2]}, "details:"),
        ("model id not a uuid", {"model_id": "model-7"}, "model_id:"),
        ("model id missing", {"model_id": None}, "model_id:"),
        ("success not a boolean", {"success": "maybe"}, "success:"),
    ]


@pytest.mark.parametrize(("case", "change", "reason"), _rule_cases(), ids=[c[0] for c in _rule_cases()])
def test_a_body_breaking_a_rule_goes_to_the_dlq_with_its_reason_and_is_acknowledged(
    site: tuple[Model, Trust],
    session: Session,
    logs_dlq: DeadLetterQueue,
    case: str,
    change: dict[str, Any],
    reason: str,
) -> None:
    model, _ = site
    body = text_log(model) | change
    record = sqs_record(body, queue=QUEUE)

    response = invoke("fl_logs", sqs_event(record))

    assert failed_ids(response) == []
    assert logs(session, model) == []
    [letter] = logs_dlq.letters()
    assert reason in letter["rejection_reason"]
    assert letter["rejection_kind"] == "invalid_message"
    assert letter["body"] == record["body"]  # untouched, so it can be redriven
    assert letter["original_message_id"] == record["messageId"]
    assert letter["source_queue"] == QUEUE
    assert "Traceback" not in letter["rejection_reason"]
    assert len(letter["rejection_reason"]) <= 256


def test_the_limits_themselves_are_accepted(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    filler = 8192 - len(json.dumps({"blob": ""}))
    bodies = [
        event_log(model, event_type="E" * 64, global_round=2_147_483_647),
        event_log(model, global_round=1, details={"blob": "x" * filler}),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert len(logs(session, model)) == 2
    assert logs_dlq.letters() == []


@pytest.mark.parametrize(
    ("length", "stored"),
    [
        (32_768, "x" * 32_768),
        (32_769, "x" * 32_768 + " … [cut: 1 more characters]"),
        (250_000, "x" * 32_768 + " … [cut: 217232 more characters]"),
    ],
    ids=["at the limit", "one over", "a 250,000-character traceback"],
)
def test_a_free_text_log_over_32768_characters_is_stored_cut_never_refused(
    length: int, stored: str, site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    """Found from the outside: a 250,000-character log validated and was stored whole (SPEC §5)."""
    model, _ = site
    bodies = [
        text_log(model, log="x" * length),
        text_log(model, fl_client_name="Trust_9", log="y" * length, success=False),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert logs_dlq.letters() == []
    client, unattributed = logs(session, model)
    assert client.log == stored
    prefix = "[unattributed client 'Trust_9'] "
    assert unattributed.log == prefix + stored.replace("x", "y")  # the failed text is kept, cut the same way


@pytest.mark.parametrize("body", ["not json at all", "[1, 2, 3]", ""])
def test_a_body_that_is_not_a_json_object_goes_to_the_dlq(
    body: str, site: tuple[Model, Trust], logs_dlq: DeadLetterQueue
) -> None:
    response = invoke("fl_logs", sqs_event(sqs_record(body, queue=QUEUE)))

    assert failed_ids(response) == []
    [letter] = logs_dlq.letters()
    assert letter["rejection_reason"].startswith("body:")


def test_an_unknown_model_is_rejected(given: Given, logs_dlq: DeadLetterQueue) -> None:
    given.trust(slot="Trust_1")
    missing = uuid.uuid4()
    body = {"model_id": str(missing), "fl_client_name": None, "log": "hello"}

    response = invoke("fl_logs", sqs_event(sqs_record(body, queue=QUEUE)))

    assert failed_ids(response) == []
    [letter] = logs_dlq.letters()
    assert letter["rejection_reason"] == f"model_id: unknown model {missing}"
    assert letter["rejection_kind"] == "unknown_model"


@pytest.mark.parametrize(
    ("client", "kind"),
    [
        ("Trust_9", "unknown_fl_client"),
        ("Trust_unassigned", "unknown_fl_client"),
        ("Trust_2", "trust_not_in_model"),
    ],
)
def test_typed_events_and_successful_lines_from_an_unattributable_client_are_rejected(
    client: str,
    kind: str,
    site: tuple[Model, Trust],
    given: Given,
    session: Session,
    logs_dlq: DeadLetterQueue,
) -> None:
    model, _ = site
    given.slot("Trust_unassigned")
    given.trust(code="UCLH", slot="Trust_2")  # a real trust, but not one of this model's
    bodies = [event_log(model, fl_client_name=client), text_log(model, fl_client_name=client, success=True)]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert logs(session, model) == []
    letters = logs_dlq.letters()
    assert [letter["rejection_kind"] for letter in letters] == [kind, kind]
    assert all(letter["rejection_reason"].startswith("fl_client_name:") for letter in letters)
    assert all(client in letter["rejection_reason"] for letter in letters)


@pytest.mark.parametrize("client", ["Trust_9", "Trust_2"])
def test_a_failed_text_from_an_unattributable_client_is_kept_at_model_level(
    client: str, site: tuple[Model, Trust], given: Given, session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    given.trust(code="UCLH", slot="Trust_2")
    traceback = "Traceback (most recent call last):\n  ...\nRuntimeError: CUDA out of memory"
    body = text_log(model, fl_client_name=client, log=traceback, success=False)

    response = invoke("fl_logs", sqs_event(sqs_record(body, queue=QUEUE)))

    assert failed_ids(response) == []
    [row] = logs(session, model)
    assert row.trust is None
    assert row.fl_client_name == client
    assert row.success is False
    assert row.log == f"[unattributed client '{client}'] {traceback}"
    assert logs_dlq.letters() == []


def test_a_failed_typed_event_from_an_unknown_client_is_still_rejected(
    site: tuple[Model, Trust], logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    body = event_log(model, fl_client_name="Trust_9", success=False)

    response = invoke("fl_logs", sqs_event(sqs_record(body, queue=QUEUE)))

    assert failed_ids(response) == []
    [letter] = logs_dlq.letters()
    assert letter["rejection_kind"] == "unknown_fl_client"


def test_a_redelivered_message_creates_no_second_row(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    record = sqs_record(text_log(model), queue=QUEUE)

    first = invoke("fl_logs", sqs_event(record))
    again = invoke(
        "fl_logs", sqs_event(record | {"attributes": record["attributes"] | {"ApproximateReceiveCount": "2"}})
    )

    assert failed_ids(first) == failed_ids(again) == []
    assert len(logs(session, model)) == 1
    assert logs_dlq.letters() == []


def test_the_same_event_id_in_different_messages_is_stored_once(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    body = event_log(model, event_id="nvflare-job-7:round-2:Trust_1:result")

    in_one_batch = invoke("fl_logs", bodies_event([body, body], queue=QUEUE))
    in_a_later_batch = invoke("fl_logs", bodies_event([body], queue=QUEUE))

    assert failed_ids(in_one_batch) == failed_ids(in_a_later_batch) == []
    [row] = logs(session, model)
    assert message_key_of(session, row) == "nvflare-job-7:round-2:Trust_1:result"


def test_a_blank_event_id_counts_as_absent(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    bodies = [text_log(model, event_id="", log="one"), text_log(model, event_id=" ", log="two")]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert sorted(r.log for r in logs(session, model)) == ["one", "two"]


def test_a_mixed_batch_applies_the_good_and_dead_letters_the_bad(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    good = [text_log(model, log=f"line {n}") for n in range(5)]
    bad = [event_log(model, global_round=None), text_log(model, model_id=str(uuid.uuid4()))]

    response = invoke("fl_logs", bodies_event([good[0], bad[0], *good[1:3], bad[1], *good[3:]], queue=QUEUE))

    assert failed_ids(response) == []
    assert [r.log for r in logs(session, model)] == [f"line {n}" for n in range(5)]
    assert sorted(letter["rejection_kind"] for letter in logs_dlq.letters()) == [
        "invalid_message",
        "unknown_model",
    ]


def test_a_warm_batch_costs_three_round_trips_named_five_unnamed(
    given: Given,
    session: Session,
    logs_dlq: DeadLetterQueue,
    monkeypatch: pytest.MonkeyPatch,
    statement_strategy: str,
) -> None:
    trusts = [given.trust(slot=f"Trust_{n}") for n in (1, 2, 3)]
    models = [given.model(trusts=trusts) for _ in range(2)]

    def batch(r: int) -> list[dict[str, Any]]:
        return [
            event_log(model, fl_client_name=f"Trust_{n}", global_round=r)
            for model in models
            for n in (1, 2, 3)
        ]

    assert failed_ids(invoke("fl_logs", bodies_event(batch(1), queue=QUEUE))) == []  # connects, prepares
    with counting_round_trips(monkeypatch) as trips:
        response = invoke("fl_logs", bodies_event(batch(2), queue=QUEUE))

    assert failed_ids(response) == []
    assert sum(len(logs(session, model)) for model in models) == 12
    # BEGIN (the pre-ping), the prepared statement attributing and inserting every row, COMMIT; the
    # unnamed statement (behind a pooler) takes three trips (pg8000: parse and describe, bind and execute)
    assert len(trips) == (3 if statement_strategy == "named" else 5)


def test_a_row_the_database_refuses_is_isolated_and_rejected_alone(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    bodies = [
        text_log(model, log="before"),
        text_log(model, log="nul \x00 byte"),
        text_log(model, log="after"),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert [r.log for r in logs(session, model)] == ["before", "after"]
    [letter] = logs_dlq.letters()
    assert letter["rejection_kind"] == "database_rejected"
    assert "SQLSTATE" in letter["rejection_reason"]


@pytest.mark.parametrize(
    "details",
    [{"note": "lone surrogate \ud800"}, {"size": 1e400}, {"text": "nul \x00"}],
    ids=["lone-surrogate", "infinity", "nul"],
)
def test_details_postgresql_cannot_store_reject_that_message_alone(
    site: tuple[Model, Trust], session: Session, logs_dlq: DeadLetterQueue, details: dict[str, Any]
) -> None:
    model, _ = site
    bodies = [
        event_log(model, global_round=1),
        event_log(model, global_round=2, details=details),
        event_log(model, global_round=3),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []  # nothing retried, nothing crashed
    assert [r.global_round for r in logs(session, model)] == [1, 3]
    [letter] = logs_dlq.letters()
    assert letter["rejection_kind"] in {"invalid_message", "database_rejected"}


def test_database_unreachable_fails_every_record_and_dead_letters_nothing(
    site: tuple[Model, Trust], logs_dlq: DeadLetterQueue, database_down: None
) -> None:
    model, _ = site
    event_ = bodies_event(
        [text_log(model), event_log(model), text_log(model, fl_client_name=None)], queue=QUEUE
    )

    response = invoke("fl_logs", event_)

    assert failed_ids(response) == [record["messageId"] for record in event_["Records"]]
    assert logs_dlq.letters() == []


def test_without_a_dead_letter_queue_a_rejected_record_is_retried_not_dropped(
    site: tuple[Model, Trust], session: Session, monkeypatch: pytest.MonkeyPatch, aws: Any
) -> None:
    from flip_models.store.settings import get_settings

    model, _ = site
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    get_settings.cache_clear()
    good, bad = sqs_record(text_log(model), queue=QUEUE), sqs_record("{", queue=QUEUE)

    response = invoke("fl_logs", sqs_event(good, bad))

    assert failed_ids(response) == [bad["messageId"]]
    assert len(logs(session, model)) == 1


def test_each_rejection_gives_one_structured_log_line_and_one_metric(
    site: tuple[Model, Trust],
    logs_dlq: DeadLetterQueue,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    model, _ = site
    bodies = [
        event_log(model, global_round=None),
        text_log(model),
        event_log(model, fl_client_name="Trust_9"),
    ]
    capsys.readouterr()
    caplog.clear()

    invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    rejections = [r.__dict__ for r in caplog.records if r.getMessage() == "FL message rejected"]
    assert [(r["rejection_kind"], r["rejection_reason"][:13]) for r in rejections] == [
        ("invalid_message", "global_round:"),
        ("unknown_fl_client", "fl_client_nam"),
    ]
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "FLMessageRejected" in line
    ]
    assert [(m["queue"], m["reason"], m["FLMessageRejected"]) for m in emitted] == [
        ("fl-logs", "invalid_message", [1.0]),
        ("fl-logs", "unknown_fl_client", [1.0]),
    ]
