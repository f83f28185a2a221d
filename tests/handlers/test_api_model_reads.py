"""GET /model/{id}, /status, /metrics, /trusts and PATCH /model/{id}/status/{status}: shapes and rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.enums import (
    FileUploadStatus,
    JobStatus,
    ModelAuditAction,
    ModelStatus,
    NetStatus,
    StatusAuditAction,
)
from flip_models.store.tables import FLJob, FLLogs, FLScheduler, Model, ModelsAudit
from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def get(caller: Person, function: str, resource: str, model_id: uuid.UUID) -> ApiResponse:
    return caller.call(function, "GET", resource, {"modelId": str(model_id)})


def patch(caller: Person, model_id: uuid.UUID, status: str) -> ApiResponse:
    return caller.call(
        "update_model_status",
        "PATCH",
        "/model/{modelId}/status/{status}",
        {"modelId": str(model_id), "status": status},
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- GET /model/{modelId} -------------------------------------------------------------------------


def test_model_detail_field_by_field(given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus.RESULTS_UPLOADED)
    model = world.model
    given.audit(model, ModelAuditAction.PREPARED, at=T0)
    given.audit(model, ModelAuditAction.RUNNING, at=T0 + timedelta(minutes=5))
    given.audit(model, ModelAuditAction.PREPARED, at=T0 + timedelta(hours=1))  # a second run: latest wins
    given.audit(model, ModelAuditAction.RESULTS_UPLOADED, at=T0 + timedelta(hours=2))
    given.audit(model, ModelAuditAction.EDIT, at=T0 + timedelta(hours=3))
    given.query(world.project, "Older query", "SELECT 1", created=T0)
    latest = given.query(
        world.project, "Adult CXR", "SELECT accession_id FROM imaging", created=T0 + timedelta(1)
    )
    weights = given.uploaded_file(model, "weights.pt", status=FileUploadStatus.SCANNING, size=0.0)
    config = given.uploaded_file(model, "config.json", size=1184.0)
    given.job(model, status=JobStatus.COMPLETED, created=T0, roster=world.trusts)
    given.job(model, status=JobStatus.COMPLETED, created=T0 + timedelta(hours=1), roster=world.trusts[:1])

    response = get(world.viewer, "get_model", "/model/{modelId}", model.id)

    assert response.status == 200
    body = response.body
    assert list(body) == [
        "modelId",
        "modelName",
        "modelDescription",
        "projectId",
        "status",
        "query",
        "files",
        "creationTimestamp",
        "preparedAt",
        "runningAt",
        "trainingStartedAt",
        "resultsUploadedAt",
        "trusts",
        "queuePosition",
    ]
    assert body["modelId"] == str(model.id)
    assert body["modelName"] == model.name
    assert body["modelDescription"] == ""
    assert body["projectId"] == str(world.project.id)
    assert body["status"] == "RESULTS_UPLOADED"
    assert body["query"] == {
        "id": str(latest.id),
        "name": "Adult CXR",
        "query": "SELECT accession_id FROM imaging",
    }
    assert body["files"] == [  # by name
        {"id": str(config.id), "name": "config.json", "status": "COMPLETED", "size": 1184.0,
         "type": "text/plain", "tag": None},
        {"id": str(weights.id), "name": "weights.pt", "status": "SCANNING", "size": 0.0,
         "type": "text/plain", "tag": None},
    ]  # fmt: skip
    assert body["creationTimestamp"] == iso(model.creation_timestamp)
    assert body["preparedAt"] == iso(T0 + timedelta(hours=1))
    assert body["runningAt"] == body["trainingStartedAt"] == iso(T0 + timedelta(minutes=5))
    assert body["resultsUploadedAt"] == iso(T0 + timedelta(hours=2))
    first = world.trusts[0]  # the newest run's roster, not the model's approved pool
    assert body["trusts"] == [{"id": str(first.id), "name": first.name, "code": first.code}]
    assert body["queuePosition"] is None


def test_the_web_app_model_page_is_the_same_read_as_post_without_a_body(given: Given) -> None:
    world = build_world(given)

    read = get(world.viewer, "get_model", "/model/{modelId}", world.model.id)
    step = world.viewer.call("get_model", "POST", "/step/model/{modelId}", {"modelId": str(world.model.id)})

    assert step.status == read.status == 200
    assert step.body == read.body


def test_a_model_before_its_first_run_has_no_roster_no_query_and_no_position(given: Given) -> None:
    world = build_world(given)

    body = get(world.admin, "get_model", "/model/{modelId}", world.model.id).body

    assert (body["trusts"], body["query"], body["files"], body["queuePosition"]) == ([], None, [], None)


def test_queue_position_is_the_rank_of_the_earliest_queued_job(given: Given) -> None:
    world = build_world(given)
    ahead = world.another_model()
    given.job(ahead, status=JobStatus.QUEUED, created=T0)
    given.job(world.model, status=JobStatus.QUEUED, created=T0 + timedelta(minutes=1))
    given.job(world.model, status=JobStatus.QUEUED, created=T0 + timedelta(minutes=2))  # queued twice
    given.job(world.another_model(), status=JobStatus.IN_PROGRESS, created=T0 - timedelta(hours=1))

    assert get(world.admin, "get_model", "/model/{modelId}", world.model.id).body["queuePosition"] == 2
    assert get(world.admin, "get_model", "/model/{modelId}", ahead.id).body["queuePosition"] == 1


def test_model_detail_without_stages_has_null_dates(given: Given) -> None:
    world = build_world(given)

    body = get(world.admin, "get_model", "/model/{modelId}", world.model.id).body

    assert (body["preparedAt"], body["runningAt"], body["resultsUploadedAt"]) == (None, None, None)


# --- GET /model/{modelId}/status -------------------------------------------------------------------


def test_status_shape(given: Given) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)

    response = get(world.viewer, "get_model_status", "/model/{modelId}/status", world.model.id)

    assert response.status == 200
    assert response.body == {"status": "RUNNING", "deleted": False}


def test_status_still_answers_for_a_deleted_model(given: Given) -> None:
    world = build_world(given)
    deleted = world.another_model(status=ModelStatus.STOPPED, deleted=True)

    response = get(world.researcher, "get_model_status", "/model/{modelId}/status", deleted.id)

    assert response.body == {"status": "STOPPED", "deleted": True}


# --- PATCH /model/{modelId}/status/{status} -----------------------------------------------------------


def test_stopping_a_running_model(given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)
    job = given.job(world.model)
    scheduler = given.busy_scheduler(job)

    response = patch(world.researcher, world.model.id, "STOPPED")

    assert response.status == 200
    assert response.body == {"status": "STOPPED", "changed": True}
    session.expire_all()
    assert session.get(Model, world.model.id).status == ModelStatus.STOPPED  # type: ignore[union-attr]
    [audit] = model_audit_trail(world.model.id, session)
    assert (audit.action, audit.user_id) == (StatusAuditAction.STOPPED, world.researcher.user_id)
    assert session.get(FLJob, job.id).status == JobStatus.COMPLETED  # type: ignore[union-attr]
    assert session.get(FLScheduler, scheduler.id).status == NetStatus.AVAILABLE  # type: ignore[union-attr]
    hub = session.execute(select(FLLogs.log, FLLogs.success, FLLogs.trust)).one()
    assert tuple(hub) == ("The job for this model has been stopped.", False, None)


def test_stopping_twice_changes_nothing_the_second_time(given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)
    assert patch(world.owner, world.model.id, "STOPPED").body == {"status": "STOPPED", "changed": True}

    response = patch(world.owner, world.model.id, "STOPPED")

    assert response.body == {"status": "STOPPED", "changed": False}
    assert len(model_audit_trail(world.model.id, session)) == 1


def test_a_stopped_model_can_be_set_back_to_pending(given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus.STOPPED)

    response = patch(world.admin, world.model.id, "PENDING")

    assert response.body == {"status": "PENDING", "changed": True}
    session.expire_all()
    assert session.get(Model, world.model.id).status == ModelStatus.PENDING  # type: ignore[union-attr]


def test_setting_a_running_model_back_to_pending_is_refused_and_leaves_its_run_as_it_was(
    given: Given, session: Session
) -> None:
    """Found from outside: a reset of a running model answered 200 and left its job IN_PROGRESS and its
    scheduler BUSY for ever; a late RESULTS_UPLOADED was then applied from PENDING."""
    world = build_world(given, status=ModelStatus.RUNNING)
    job = given.job(world.model)
    scheduler = given.busy_scheduler(job)

    body = assert_error(patch(world.researcher, world.model.id, "PENDING"), 409)

    assert "stop" in body["message"]
    session.expire_all()
    assert session.get(Model, world.model.id).status == ModelStatus.RUNNING  # type: ignore[union-attr]
    assert session.get(FLJob, job.id).status == JobStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert session.get(FLScheduler, scheduler.id).status == NetStatus.BUSY  # type: ignore[union-attr]
    assert session.execute(select(ModelsAudit.id)).all() == []


@pytest.mark.parametrize("status", ["RESULTS_UPLOADED", "RESULTS_UPLOAD_FAILED", "ERROR", "PENDING"])
def test_stopping_a_model_without_a_run_is_refused(status: str, given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus(status))

    body = assert_error(patch(world.owner, world.model.id, "STOPPED"), 409)

    assert "no run" in body["message"]
    session.expire_all()
    assert session.get(Model, world.model.id).status == ModelStatus(status)  # type: ignore[union-attr]
    assert session.execute(select(ModelsAudit.id)).all() == []


def test_stopping_a_queued_model_takes_it_out_of_the_queue(given: Given, session: Session) -> None:
    world = build_world(given)
    finished = given.job(world.model, status=JobStatus.COMPLETED, created=T0)
    queued = given.job(world.model, status=JobStatus.QUEUED, created=T0 + timedelta(hours=1))

    response = patch(world.researcher, world.model.id, "STOPPED")

    assert response.body == {"status": "STOPPED", "changed": True}
    session.expire_all()
    assert session.get(FLJob, queued.id).status == JobStatus.DELETED  # type: ignore[union-attr]
    earlier = session.get(FLJob, finished.id)
    assert earlier is not None
    assert earlier.status == JobStatus.COMPLETED  # an earlier run's job keeps its end
    assert earlier.completed is None
    page = get(world.viewer, "get_model", "/model/{modelId}", world.model.id).body
    assert page["queuePosition"] is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        ("STOPPED", {"status": "STOPPED", "changed": False}),  # already: no change
        ("PENDING", {"status": "PENDING", "changed": True}),
    ],
)
def test_a_stopped_model_may_be_stopped_again_or_reset(
    status: str, body: dict[str, object], given: Given
) -> None:
    world = build_world(given, status=ModelStatus.STOPPED)

    assert patch(world.admin, world.model.id, status).body == body


@pytest.mark.parametrize("status", ["ERROR", "RESULTS_UPLOADED", "RESULTS_UPLOAD_FAILED"])
def test_a_finished_run_may_be_reset_to_pending(status: str, given: Given) -> None:
    world = build_world(given, status=ModelStatus(status))

    assert patch(world.admin, world.model.id, "PENDING").body == {"status": "PENDING", "changed": True}


def test_pending_on_a_pending_model_changes_nothing(given: Given) -> None:
    world = build_world(given)

    assert patch(world.admin, world.model.id, "PENDING").body == {"status": "PENDING", "changed": False}


@pytest.mark.parametrize(
    "status", ["INITIATED", "PREPARED", "RUNNING", "RESULTS_UPLOADED", "RESULTS_UPLOAD_FAILED", "ERROR"]
)
def test_a_person_may_not_set_other_statuses(status: str, given: Given, session: Session) -> None:
    world = build_world(given)

    body = assert_error(patch(world.admin, world.model.id, status), 400, field="status")

    assert "STOPPED" in body["message"]
    session.expire_all()
    assert session.get(Model, world.model.id).status == ModelStatus.PENDING  # type: ignore[union-attr]
    assert session.execute(select(ModelsAudit.id)).all() == []


@pytest.mark.parametrize("status", ["BOGUS", "stopped", "RUNNING;DROP"])
def test_an_unknown_status_is_422(status: str, given: Given) -> None:
    world = build_world(given)

    assert_error(patch(world.admin, world.model.id, status), 422, field="status")


# --- GET /model/{modelId}/metrics ---------------------------------------------------------------------


def test_metrics_shape(given: Given) -> None:
    world = build_world(given)
    gstt, kch = sorted(world.trusts, key=lambda t: t.code or "")
    given.metric(world.model, kch, label="LOSS", x_value=1, result=0.5)
    given.metric(world.model, gstt, label="LOSS", x_value=1, result=0.4)
    given.metric(world.model, gstt, label="LOSS", x_value=0, result=0.9)

    response = get(world.viewer, "get_model_metrics", "/model/{modelId}/metrics", world.model.id)

    assert response.status == 200
    assert response.body == [
        {
            "yLabel": "LOSS",
            "xLabel": "Global Round",
            "metrics": [
                {
                    "seriesLabel": "GSTT",
                    "data": [{"xValue": 0.0, "yValue": 0.9}, {"xValue": 1.0, "yValue": 0.4}],
                    "totalPoints": 2,
                },
                {"seriesLabel": "KCH", "data": [{"xValue": 1.0, "yValue": 0.5}], "totalPoints": 1},
            ],
        }
    ]


def test_no_metrics_is_an_empty_list(given: Given) -> None:
    world = build_world(given)

    assert get(world.admin, "get_model_metrics", "/model/{modelId}/metrics", world.model.id).body == []


# --- GET /model/{modelId}/trusts ----------------------------------------------------------------------


def test_trusts_shape(given: Given) -> None:
    world = build_world(given)

    response = get(world.colleague, "get_model_trusts", "/model/{modelId}/trusts", world.model.id)

    assert response.status == 200
    assert response.body == [
        {"id": str(t.id), "name": t.name, "code": t.code, "status": "PENDING"}
        for t in sorted(world.trusts, key=lambda t: t.name)
    ]
