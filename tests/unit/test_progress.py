"""The round progress card's rules (SPEC §3): maxima and earliest times, so duplicated and missing
events change nothing they should not; a trust that failed and went quiet is dropped; the estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from flip_models.core.progress import get_model_progress
from flip_models.enums import FLLogEvent, JobStatus
from flip_models.store.tables import Model, Trust
from tests.builders import Given

T0 = datetime(2026, 7, 9, 13, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def started(given: Given, model: Model, round_: int, at: datetime, total: object = 10) -> None:
    given.log(
        model,
        at=at,
        event_type=FLLogEvent.ROUND_STARTED,
        global_round=round_,
        details={"total_rounds": total},
    )


def returned(given: Given, model: Model, trust: Trust, round_: int, at: datetime, *, ok: bool = True) -> None:
    given.log(
        model,
        at=at,
        trust=trust,
        success=ok,
        event_type=FLLogEvent.CLIENT_RESULT_RECEIVED,
        global_round=round_,
        details={"size_bytes": 1024},
    )


def a_run(given: Given) -> tuple[Model, list[Trust]]:
    trusts = [given.trust("GSTT", "Guy's"), given.trust("KCH", "King's"), given.trust("UCLH", "UCL")]
    model = given.model(trusts=trusts)
    given.job(
        model, status=JobStatus.IN_PROGRESS, roster=trusts, created=T0 - 2 * MINUTE, started=T0 - MINUTE
    )
    return model, trusts


def test_no_events_is_nulls_and_the_roster(given: Given, session: Session) -> None:
    model, _ = a_run(given)

    progress = get_model_progress(model.id, session, now=T0)

    assert (progress.current_round, progress.total_rounds, progress.started_at) == (None, None, None)
    assert (progress.avg_round_seconds, progress.est_remaining_seconds) == (None, None)
    assert [(t.code, t.state, t.last_round, t.last_event_at) for t in progress.trusts] == [
        ("GSTT", "training", None, None),
        ("KCH", "training", None, None),
        ("UCLH", "training", None, None),
    ]


def test_a_rerun_shows_the_current_run_only(given: Given, session: Session) -> None:
    """Issue 22 item 3: run 1 finished all five rounds; run 2 (a newer job) is at round 1. Only the
    events dated from the newest job's start count."""
    model, (gstt, kch, uclh) = a_run(given)
    for round_ in range(1, 6):
        started(given, model, round_, T0 + 10 * MINUTE * (round_ - 1), total=5)
        for trust in (gstt, kch, uclh):
            returned(given, model, trust, round_, T0 + 10 * MINUTE * (round_ - 1) + 5 * MINUTE)
    second = T0 + 3 * 60 * MINUTE
    given.job(
        model, status=JobStatus.IN_PROGRESS, roster=[gstt, kch, uclh], created=second - MINUTE, started=second
    )
    started(given, model, 1, second + MINUTE, total=8)
    returned(given, model, gstt, 1, second + 4 * MINUTE)

    progress = get_model_progress(model.id, session, now=second + 5 * MINUTE)

    assert (progress.current_round, progress.total_rounds, progress.started_at) == (1, 8, second + MINUTE)
    assert [(t.code, t.state, t.last_round) for t in progress.trusts] == [
        ("GSTT", "returned", 1),
        ("KCH", "training", None),
        ("UCLH", "training", None),
    ]


def test_a_queued_job_counts_from_its_creation_and_a_model_without_a_job_shows_no_run(
    given: Given, session: Session
) -> None:
    model = given.model()
    started(given, model, 3, T0)  # a row of no run: the model has no job

    assert get_model_progress(model.id, session, now=T0).current_round is None
    given.job(model, status=JobStatus.QUEUED, created=T0 + MINUTE)
    started(given, model, 1, T0 + 2 * MINUTE)
    assert get_model_progress(model.id, session, now=T0 + 3 * MINUTE).current_round == 1


def test_a_model_without_a_run_has_no_roster(given: Given, session: Session) -> None:
    model = given.model()

    assert get_model_progress(model.id, session, now=T0).trusts == []


def test_rounds_the_estimate_and_each_trusts_state(given: Given, session: Session) -> None:
    model, (gstt, kch, uclh) = a_run(given)
    for round_ in (1, 2, 3):  # ten minutes a round
        started(given, model, round_, T0 + 10 * MINUTE * (round_ - 1))
    for trust in (gstt, kch, uclh):
        returned(given, model, trust, 1, T0 + 6 * MINUTE)
        returned(given, model, trust, 2, T0 + 16 * MINUTE)
    returned(given, model, gstt, 3, T0 + 26 * MINUTE)  # back from round 3
    given.log(model, "CUDA out of memory", at=T0 + 24 * MINUTE, trust=kch, success=False)  # and silent

    progress = get_model_progress(model.id, session, now=T0 + 27 * MINUTE)

    assert progress.current_round == 3
    assert progress.total_rounds == 10
    assert progress.started_at == T0
    assert progress.avg_round_seconds == 600
    # 8 rounds of 600 s from the start of round 3, of which 7 minutes have gone.
    assert progress.est_remaining_seconds == 600 * (10 - 3 + 1) - 7 * 60
    states = {t.code: (t.state, t.last_round, t.last_event_at) for t in progress.trusts}
    assert states == {
        "GSTT": ("returned", 3, T0 + 26 * MINUTE),
        "KCH": ("dropped", 2, T0 + 24 * MINUTE),
        "UCLH": ("training", 2, T0 + 16 * MINUTE),
    }
    assert {t.code: t.avg_round_seconds for t in progress.trusts} == {"GSTT": 600, "KCH": 600, "UCLH": 600}


def test_duplicated_and_missing_events_are_tolerated(given: Given, session: Session) -> None:
    model, (gstt, _, _) = a_run(given)
    started(given, model, 1, T0)
    started(given, model, 1, T0 + 2 * MINUTE)  # a duplicate, later: the round's earliest start counts
    started(given, model, 3, T0 + 20 * MINUTE)  # round 2's start was lost
    started(given, model, 2, T0 + 21 * MINUTE, total=12)  # a late duplicate, the latest-dated start
    returned(given, model, gstt, 3, T0 + 25 * MINUTE)
    returned(given, model, gstt, 3, T0 + 26 * MINUTE)  # delivered twice

    progress = get_model_progress(model.id, session, now=T0 + 30 * MINUTE)

    assert progress.current_round == 3
    assert progress.total_rounds == 12  # from the latest-dated ROUND_STARTED
    assert progress.started_at == T0
    assert progress.avg_round_seconds is not None
    gstt_progress = next(t for t in progress.trusts if t.code == "GSTT")
    assert (gstt_progress.state, gstt_progress.last_round) == ("returned", 3)


def test_a_result_after_a_failure_brings_a_trust_back(given: Given, session: Session) -> None:
    model, (gstt, _, _) = a_run(given)
    started(given, model, 1, T0)
    given.log(model, "transient error", at=T0 + MINUTE, trust=gstt, success=False)
    returned(given, model, gstt, 1, T0 + 5 * MINUTE)

    progress = get_model_progress(model.id, session, now=T0 + 6 * MINUTE)

    assert next(t for t in progress.trusts if t.code == "GSTT").state == "returned"


def test_the_estimate_needs_an_average_and_a_total_and_never_goes_below_zero(
    given: Given, session: Session
) -> None:
    model, _ = a_run(given)
    started(given, model, 1, T0, total="ten")  # not an integer: unknown

    one_round = get_model_progress(model.id, session, now=T0 + MINUTE)
    started(given, model, 2, T0 + 10 * MINUTE, total=2)
    overdue = get_model_progress(model.id, session, now=T0 + 5 * 60 * MINUTE)

    assert (one_round.total_rounds, one_round.avg_round_seconds, one_round.est_remaining_seconds) == (
        None,
        None,
        None,
    )
    assert (overdue.total_rounds, overdue.avg_round_seconds, overdue.est_remaining_seconds) == (2, 600, 0)


def test_details_of_any_shape_never_break_the_card(given: Given, session: Session) -> None:
    model, (gstt, _, _) = a_run(given)
    odd = [None, [], "x", {"total_rounds": 10**400}, {"total_rounds": 2.5}]
    for round_, details in enumerate([*odd, {"total_rounds": True}], 1):
        given.log(model, at=T0 + round_ * MINUTE, event_type=FLLogEvent.ROUND_STARTED, global_round=round_,
                  details=details)  # fmt: skip
    # What another writer may store and Python could not even parse: 5,000 digits, 2,000 levels deep.
    given.session.execute(
        text(
            "INSERT INTO fl_logs (id, model_id, log_date, success, event_type, global_round, details) VALUES "
            "(gen_random_uuid(), :m, :t, true, 'ROUND_STARTED', 7, CAST(:huge AS jsonb)), "
            "(gen_random_uuid(), :m, :t, true, 'ROUND_STARTED', 7, CAST(:deep AS jsonb))"
        ),
        {
            "m": model.id,
            "t": T0 + 8 * MINUTE,
            "huge": '{"total_rounds": 1' + "0" * 5000 + "}",
            "deep": '{"total_rounds": ' + "[" * 2000 + "1" + "]" * 2000 + "}",
        },
    )
    given.session.commit()
    returned(given, model, gstt, 7, T0 + 9 * MINUTE)

    progress = get_model_progress(model.id, session, now=T0 + 10 * MINUTE)

    assert progress.current_round == 7
    assert progress.total_rounds is None
