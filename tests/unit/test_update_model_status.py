"""update_model_status: every rule of SPEC §3, with "nothing written" asserted on ignored moves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.core.status import HUB_LOG_LINES, is_person_change
from flip_models.core.transitions import update_model_status
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import ConflictError
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model
from tests.builders import Given

S = ModelStatus


def audits(session: Session, model_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None]]:
    return [(entry.action, entry.user_id) for entry in model_audit_trail(model_id, session)]


def hub_logs(session: Session, model_id: uuid.UUID) -> list[tuple[str | None, bool]]:
    rows = session.execute(
        select(FLLogs.log, FLLogs.success).where(FLLogs.model_id == model_id, FLLogs.trust.is_(None))
    ).all()
    return [(log, success) for log, success in rows]


def stored_status(session: Session, model_id: uuid.UUID) -> ModelStatus:
    session.expire_all()
    status = session.scalar(select(Model.status).where(Model.id == model_id))
    assert status is not None
    return status


def running_job_with_scheduler(given: Given, current: ModelStatus) -> tuple[Model, FLJob, FLScheduler]:
    model = given.model(status=current)
    job = given.job(model, status=JobStatus.IN_PROGRESS)
    return model, job, given.busy_scheduler(job)


ACCEPTED_BACKGROUND = [
    (S.PENDING, S.INITIATED),
    (S.INITIATED, S.PREPARED),
    (S.PREPARED, S.RUNNING),
    (S.INITIATED, S.RUNNING),
    (S.RUNNING, S.ERROR),
    (S.RUNNING, S.RESULTS_UPLOADED),
    (S.RUNNING, S.RESULTS_UPLOAD_FAILED),
    (S.ERROR, S.RESULTS_UPLOADED),  # Flower: a crashed client, then results anyway
    (S.ERROR, S.RESULTS_UPLOAD_FAILED),
    (S.INITIATED, S.STOPPED),
    (S.PREPARED, S.STOPPED),
    (S.RUNNING, S.STOPPED),
    (S.ERROR, S.STOPPED),
    (S.RESULTS_UPLOADED, S.INITIATED),  # a new run
    (S.RESULTS_UPLOAD_FAILED, S.INITIATED),
    (S.ERROR, S.INITIATED),
    (S.STOPPED, S.INITIATED),
    (S.STOPPED, S.PENDING),
]

IGNORED_BACKGROUND = [
    # STOPPED guard
    (S.STOPPED, S.PREPARED),
    (S.STOPPED, S.RUNNING),
    (S.STOPPED, S.ERROR),
    (S.STOPPED, S.RESULTS_UPLOADED),
    (S.STOPPED, S.RESULTS_UPLOAD_FAILED),
    # no backwards move, no duplicate
    (S.RUNNING, S.PREPARED),
    (S.RUNNING, S.INITIATED),
    (S.PREPARED, S.INITIATED),
    (S.RUNNING, S.RUNNING),
    (S.ERROR, S.RUNNING),
    (S.ERROR, S.PREPARED),
    (S.ERROR, S.ERROR),
    # the run has ended: only INITIATED is accepted
    (S.RESULTS_UPLOADED, S.RUNNING),
    (S.RESULTS_UPLOADED, S.ERROR),
    (S.RESULTS_UPLOADED, S.RESULTS_UPLOAD_FAILED),
    (S.RESULTS_UPLOAD_FAILED, S.RESULTS_UPLOADED),
    (S.RESULTS_UPLOADED, S.STOPPED),
    (S.RESULTS_UPLOAD_FAILED, S.STOPPED),
    (S.PENDING, S.STOPPED),
    (S.RUNNING, S.PENDING),
]


@pytest.mark.parametrize(("current", "new"), ACCEPTED_BACKGROUND, ids=lambda s: str(s))
def test_background_transition_is_applied_with_its_audit_log_and_scheduler_release(
    session: Session, given: Given, current: ModelStatus, new: ModelStatus
) -> None:
    model, job, scheduler = running_job_with_scheduler(given, current)

    result = update_model_status(model.id, new, session)
    session.commit()

    assert result == new
    assert stored_status(session, model.id) == new
    expected_audit = [] if new in (S.INITIATED, S.PENDING) else [(new.value, None)]
    assert audits(session, model.id) == expected_audit
    expected_log = [] if new == S.PENDING else [HUB_LOG_LINES[new]]
    assert hub_logs(session, model.id) == expected_log
    session.refresh(job)
    session.refresh(scheduler)
    if new in (S.ERROR, S.STOPPED, S.RESULTS_UPLOADED, S.RESULTS_UPLOAD_FAILED):
        assert job.status == JobStatus.COMPLETED
        assert job.completed is not None
        assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
    else:
        assert (job.status, job.completed) == (JobStatus.IN_PROGRESS, None)
        assert (scheduler.status, scheduler.job_id) == (NetStatus.BUSY, job.id)


@pytest.mark.parametrize(("current", "new"), IGNORED_BACKGROUND, ids=lambda s: str(s))
def test_ignored_background_transition_returns_current_status_and_writes_nothing(
    session: Session, given: Given, current: ModelStatus, new: ModelStatus
) -> None:
    model, job, scheduler = running_job_with_scheduler(given, current)

    result = update_model_status(model.id, new, session)
    session.commit()

    assert result == current
    assert stored_status(session, model.id) == current
    assert audits(session, model.id) == []
    assert session.scalar(select(func.count()).select_from(FLLogs)) == 0
    session.refresh(job)
    session.refresh(scheduler)
    assert (job.status, job.completed) == (JobStatus.IN_PROGRESS, None)
    assert (scheduler.status, scheduler.job_id) == (NetStatus.BUSY, job.id)


def test_stopped_guard_also_applies_to_a_person(session: Session, given: Given) -> None:
    model = given.model(status=S.STOPPED)

    assert update_model_status(model.id, S.RUNNING, session, user_id=uuid.uuid4()) == S.STOPPED
    session.commit()

    assert audits(session, model.id) == []
    assert hub_logs(session, model.id) == []


def test_a_person_may_move_a_finished_model_back_to_pending_and_the_audit_carries_nothing_for_pending(
    session: Session, given: Given
) -> None:
    model = given.model(status=S.RESULTS_UPLOADED)

    assert update_model_status(model.id, S.PENDING, session, user_id=uuid.uuid4()) == S.PENDING
    session.commit()

    assert stored_status(session, model.id) == S.PENDING
    assert audits(session, model.id) == []
    assert hub_logs(session, model.id) == []


def test_a_persons_stop_is_audited_with_the_user(session: Session, given: Given) -> None:
    user = uuid.uuid4()
    model = given.model(status=S.RUNNING)

    assert update_model_status(model.id, S.STOPPED, session, user_id=user) == S.STOPPED
    session.commit()

    assert audits(session, model.id) == [(StatusAuditAction.STOPPED, user)]
    assert hub_logs(session, model.id) == [("The job for this model has been stopped.", False)]


def test_missing_model_gives_none(session: Session) -> None:
    assert update_model_status(uuid.uuid4(), S.RUNNING, session) is None


def test_none_reasserts_the_current_status_and_writes_nothing(session: Session, given: Given) -> None:
    model = given.model(status=S.RUNNING)

    assert update_model_status(model.id, None, session) == S.RUNNING
    session.commit()

    assert audits(session, model.id) == []
    assert hub_logs(session, model.id) == []


def test_legacy_training_started_means_running(session: Session, given: Given) -> None:
    model = given.model(status=S.PREPARED)

    assert update_model_status(model.id, "TRAINING_STARTED", session) == S.RUNNING
    session.commit()

    assert stored_status(session, model.id) == S.RUNNING
    assert audits(session, model.id) == [(ModelAuditAction.RUNNING, None)]


def test_release_completes_the_newest_non_deleted_job_and_frees_its_scheduler(
    session: Session, given: Given
) -> None:
    model = given.model(status=S.RUNNING)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    older = given.job(model, status=JobStatus.COMPLETED, created=t0)
    current = given.job(model, status=JobStatus.IN_PROGRESS, created=t0 + timedelta(hours=1))
    deleted = given.job(model, status=JobStatus.DELETED, created=t0 + timedelta(hours=2))
    scheduler = given.busy_scheduler(current)
    other_model_job = given.job(given.model(status=S.RUNNING))
    other_scheduler = given.busy_scheduler(other_model_job)

    update_model_status(model.id, S.ERROR, session)
    session.commit()

    for row in (older, current, deleted, scheduler, other_scheduler):
        session.refresh(row)
    assert current.status == JobStatus.COMPLETED
    assert current.completed is not None
    assert deleted.status == JobStatus.DELETED
    assert older.completed is None
    assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
    assert (other_scheduler.status, other_scheduler.job_id) == (NetStatus.BUSY, other_model_job.id)


def test_terminal_status_without_any_job_is_still_applied(session: Session, given: Given) -> None:
    model = given.model(status=S.RUNNING)

    assert update_model_status(model.id, S.RESULTS_UPLOADED, session) == S.RESULTS_UPLOADED
    session.commit()

    assert stored_status(session, model.id) == S.RESULTS_UPLOADED


# --- People's status changes (SPEC §3): the whole table --------------------------------------------

_STOP = {  # current → what STOPPED does (True: change, False: already so, None: conflict)
    S.PENDING: None,
    S.INITIATED: True,
    S.PREPARED: True,
    S.RUNNING: True,
    S.STOPPED: False,
    S.ERROR: None,
    S.RESULTS_UPLOADED: None,
    S.RESULTS_UPLOAD_FAILED: None,
}
_RESET = {
    S.PENDING: False,
    S.INITIATED: None,
    S.PREPARED: None,
    S.RUNNING: None,
    S.STOPPED: True,
    S.ERROR: True,
    S.RESULTS_UPLOADED: True,
    S.RESULTS_UPLOAD_FAILED: True,
}


@pytest.mark.parametrize(("new", "table"), [(S.STOPPED, _STOP), (S.PENDING, _RESET)])
@pytest.mark.parametrize("current", list(S))
def test_what_a_person_may_do_from_each_status(current: S, new: S, table: dict[S, bool | None]) -> None:
    expected = table[current]
    if expected is None:
        with pytest.raises(ConflictError):
            is_person_change(current, new, queued=False)
    else:
        assert is_person_change(current, new, queued=False) is expected


def test_a_queued_pending_model_may_be_stopped() -> None:
    assert is_person_change(S.PENDING, S.STOPPED, queued=True) is True
