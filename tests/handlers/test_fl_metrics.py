"""The fl-metrics function against real PostgreSQL, with moto as its dead-letter queue (SPEC §5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.core.metrics import get_metrics
from flip_models.store.tables import FLMetrics, Model, Trust
from tests.builders import Given, message_key_of
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.round_trips import counting_round_trips
from tests.sqs_events import bodies_event, failed_ids, sqs_event, sqs_record

#: Every test runs with the FL batch statement named (direct) and unnamed (behind a pooler).
pytestmark = pytest.mark.usefixtures("statement_strategy")

QUEUE = "fl-metrics-dev"


@pytest.fixture
def site(given: Given) -> tuple[Model, Trust]:
    trust = given.trust(code="GSTT", slot="Trust_1")
    return given.model(trusts=[trust]), trust


def metrics_of(session: Session, model: Model) -> list[FLMetrics]:
    session.expire_all()
    return list(
        session.scalars(
            select(FLMetrics)
            .where(FLMetrics.model_id == model.id)
            .order_by(FLMetrics.label, FLMetrics.x_value)
        )
    )


def nvflare(model: Model, round_: int, **fields: Any) -> dict[str, Any]:
    """NVFLARE: 0-based rounds, x axis 'Global Rounds', no x_value (it is the round)."""
    body = {
        "model_id": str(model.id),
        "fl_client_name": "Trust_1",
        "global_round": round_,
        "label": "LOSS_FUNCTION",
        "result": 0.9 / (round_ + 1),
        "x_label": "Global Rounds",
    }
    return body | fields


def flower(model: Model, epoch: int, **fields: Any) -> dict[str, Any]:
    """Flower: labels such as TRAIN_LOSS on an 'epoch' x axis."""
    body = {
        "model_id": str(model.id),
        "fl_client_name": "Trust_1",
        "global_round": 1,
        "label": "TRAIN_LOSS",
        "result": 1.0 / epoch,
        "x_label": "epoch",
        "x_value": epoch,
    }
    return body | fields


def test_nvflare_metrics_with_0_based_rounds_chart_against_the_round(
    site: tuple[Model, Trust], session: Session, metrics_dlq: DeadLetterQueue
) -> None:
    model, trust = site

    response = invoke("fl_metrics", bodies_event([nvflare(model, r) for r in range(3)], queue=QUEUE))

    assert failed_ids(response) == []
    rows = metrics_of(session, model)
    assert [(r.global_round, r.x_value, r.x_label, r.trust) for r in rows] == [
        (0, 0.0, "Global Rounds", trust.id),
        (1, 1.0, "Global Rounds", trust.id),
        (2, 2.0, "Global Rounds", trust.id),
    ]
    [chart] = get_metrics(model.id, session)
    assert chart.model_dump(by_alias=True)["xLabel"] == "Global Rounds"
    assert metrics_dlq.letters() == []


def test_flower_metrics_keep_their_custom_x_axis(
    site: tuple[Model, Trust], session: Session, metrics_dlq: DeadLetterQueue
) -> None:
    model, _ = site

    response = invoke("fl_metrics", bodies_event([flower(model, e) for e in (1, 2, 3)], queue=QUEUE))

    assert failed_ids(response) == []
    assert [(r.label, r.x_label, r.x_value, r.global_round) for r in metrics_of(session, model)] == [
        ("TRAIN_LOSS", "epoch", 1.0, 1),
        ("TRAIN_LOSS", "epoch", 2.0, 1),
        ("TRAIN_LOSS", "epoch", 3.0, 1),
    ]


def test_the_x_axis_defaults_to_the_global_round(
    site: tuple[Model, Trust], session: Session, metrics_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    missing = {k: v for k, v in nvflare(model, 4).items() if k != "x_label"}
    null = nvflare(model, 5, x_label=None, x_value=None)

    response = invoke("fl_metrics", bodies_event([missing, null], queue=QUEUE))

    assert failed_ids(response) == []
    assert [(r.x_label, r.x_value) for r in metrics_of(session, model)] == [
        ("Global Round", 4.0),
        ("Global Round", 5.0),
    ]


def _rule_cases() -> list[tuple[str, dict[str, Any], str]]:
    return [
        ("negative round", {"global_round": -1}, "global_round:"),
        ("round missing", {"global_round": None}, "global_round:"),
        ("round too large", {"global_round": 2_147_483_648}, "global_round:"),
        ("empty label", {"label": ""}, "label:"),
        ("label too long", {"label": "L" * 65}, "label:"),
        ("empty x label", {"x_label": ""}, "x_label:"),
        ("x label too long", {"x_label": "X" * 65}, "x_label:"),
        ("result NaN", {"result": float("nan")}, "result:"),
        ("result infinite", {"result": float("inf")}, "result:"),
        ("result missing", {"result": None}, "result:"),
        ("x value infinite", {"x_value": float("-inf")}, "x_value:"),
        ("client missing", {"fl_client_name": None}, "fl_client_name:"),
        ("model id not a uuid", {"model_id": "7"}, "model_id:"),
    ]


@pytest.mark.parametrize(("case", "change", "reason"), _rule_cases(), ids=[c[0] for c in _rule_cases()])
def test_a_body_breaking_a_rule_goes_to_the_dlq_with_its_reason(
    site: tuple[Model, Trust],
    session: Session,
    metrics_dlq: DeadLetterQueue,
    case: str,
    change: dict[str, Any],
    reason: str,
) -> None:
    model, _ = site
    record = sqs_record(nvflare(model, 1) | change, queue=QUEUE)

    response = invoke("fl_metrics", sqs_event(record))

    assert failed_ids(response) == []
    assert metrics_of(session, model) == []
    [letter] = metrics_dlq.letters()
    assert letter["rejection_reason"].startswith(reason), letter
    assert letter["rejection_kind"] == "invalid_message"
    assert letter["body"] == record["body"]


def test_label_and_x_label_of_64_characters_are_accepted(
    site: tuple[Model, Trust], session: Session, metrics_dlq: DeadLetterQueue
) -> None:
    model, _ = site

    response = invoke(
        "fl_metrics", bodies_event([nvflare(model, 0, label="L" * 64, x_label="X" * 64)], queue=QUEUE)
    )

    assert failed_ids(response) == []
    assert len(metrics_of(session, model)) == 1


@pytest.mark.parametrize(
    ("client", "kind"),
    [("Trust_9", "unknown_fl_client"), ("Trust_2", "trust_not_in_model")],
)
def test_metrics_of_an_unattributable_client_are_rejected(
    client: str,
    kind: str,
    site: tuple[Model, Trust],
    given: Given,
    session: Session,
    metrics_dlq: DeadLetterQueue,
) -> None:
    model, _ = site
    given.trust(code="UCLH", slot="Trust_2")

    response = invoke("fl_metrics", bodies_event([nvflare(model, 0, fl_client_name=client)], queue=QUEUE))

    assert failed_ids(response) == []
    assert metrics_of(session, model) == []
    [letter] = metrics_dlq.letters()
    assert letter["rejection_kind"] == kind
    assert client in letter["rejection_reason"]


def test_metrics_of_an_unknown_model_are_rejected(given: Given, metrics_dlq: DeadLetterQueue) -> None:
    trust = given.trust(slot="Trust_1")
    given.model(trusts=[trust])
    body = {
        "model_id": str(uuid.uuid4()),
        "fl_client_name": "Trust_1",
        "global_round": 0,
        "label": "L",
        "result": 1,
    }

    response = invoke("fl_metrics", sqs_event(sqs_record(body, queue=QUEUE)))

    assert failed_ids(response) == []
    [letter] = metrics_dlq.letters()
    assert letter["rejection_kind"] == "unknown_model"


def test_duplicates_by_message_id_and_by_event_id_are_stored_once(
    site: tuple[Model, Trust], session: Session, metrics_dlq: DeadLetterQueue
) -> None:
    model, _ = site
    redelivered = sqs_record(nvflare(model, 0), queue=QUEUE)
    with_event_id = nvflare(model, 1, event_id="job-7/Trust_1/LOSS_FUNCTION/1")

    responses = [
        invoke("fl_metrics", sqs_event(redelivered)),
        invoke("fl_metrics", sqs_event(redelivered)),
        invoke("fl_metrics", bodies_event([with_event_id, with_event_id], queue=QUEUE)),
        invoke("fl_metrics", bodies_event([with_event_id], queue=QUEUE)),
    ]

    assert all(failed_ids(response) == [] for response in responses)
    assert [(r.global_round, message_key_of(session, r)) for r in metrics_of(session, model)] == [
        (0, redelivered["messageId"]),
        (1, "job-7/Trust_1/LOSS_FUNCTION/1"),
    ]


def test_a_warm_batch_costs_three_round_trips_named_five_unnamed(
    site: tuple[Model, Trust],
    session: Session,
    metrics_dlq: DeadLetterQueue,
    monkeypatch: pytest.MonkeyPatch,
    statement_strategy: str,
) -> None:
    model, _ = site
    assert failed_ids(invoke("fl_metrics", bodies_event([nvflare(model, 0)], queue=QUEUE))) == []
    with counting_round_trips(monkeypatch) as trips:
        response = invoke("fl_metrics", bodies_event([nvflare(model, r) for r in range(1, 11)], queue=QUEUE))

    assert failed_ids(response) == []
    assert len(metrics_of(session, model)) == 11
    # BEGIN (the pre-ping), the prepared statement, COMMIT; unnamed (behind a pooler): the statement takes 3
    assert len(trips) == (3 if statement_strategy == "named" else 5)


def test_database_unreachable_fails_every_record_and_dead_letters_nothing(
    site: tuple[Model, Trust], metrics_dlq: DeadLetterQueue, database_down: None
) -> None:
    model, _ = site
    event = bodies_event([nvflare(model, r) for r in range(4)], queue=QUEUE)

    response = invoke("fl_metrics", event)

    assert failed_ids(response) == [record["messageId"] for record in event["Records"]]
    assert metrics_dlq.letters() == []
