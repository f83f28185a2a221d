"""PUT /model/{id} (edit a PENDING model), DELETE /model/{id} and DELETE /project/{id}/models."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from flip_models.core.audit import model_audit_trail
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.store.tables import FLJob, FLScheduler, Model
from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world


def edit(caller: Person, model_id: uuid.UUID, body: Any) -> ApiResponse:
    return caller.call("edit_model", "PUT", "/model/{modelId}", {"modelId": str(model_id)}, body=body)


def delete(caller: Person, model_id: uuid.UUID) -> ApiResponse:
    return caller.call("delete_model", "DELETE", "/model/{modelId}", {"modelId": str(model_id)})


def delete_all(caller: Person, project_id: uuid.UUID, ensure: str | None = None) -> ApiResponse:
    return caller.call(
        "delete_project_models",
        "DELETE",
        "/project/{projectId}/models",
        {"projectId": str(project_id)},
        query={"ensureDeletion": ensure} if ensure is not None else None,
    )


def audits(session: Session, model_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None]]:
    return [(entry.action, entry.user_id) for entry in model_audit_trail(model_id, session)]


# --- edit ----------------------------------------------------------------------------------------


def test_edit_sets_name_and_description_and_audits_the_user(given: Given, session: Session) -> None:
    world = build_world(given)

    response = edit(world.researcher, world.model.id, {"name": " Renamed ", "description": "Better"})

    assert response.status == 204
    assert response.raw_body in (None, "")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    session.expire_all()
    model = session.get(Model, world.model.id)
    assert model is not None
    assert (model.name, model.description) == ("Renamed", "Better")
    assert audits(session, model.id) == [(ModelAuditAction.EDIT, world.researcher.user_id)]


def test_edit_without_description_clears_it(given: Given, session: Session) -> None:
    world = build_world(given)

    assert edit(world.owner, world.model.id, {"name": "Only a name"}).status == 204

    session.expire_all()
    model = session.get(Model, world.model.id)
    assert model is not None
    assert model.description == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": "x" * 76}, "name"), ({}, "name"), ({"name": "ok", "description": "d" * 251}, "description")],
    ids=["name-76", "name-missing", "description-251"],
)
def test_edit_with_a_bad_body_is_422(
    body: dict[str, Any], field: str, given: Given, session: Session
) -> None:
    world = build_world(given)

    assert_error(edit(world.admin, world.model.id, body), 422, field=field)

    assert audits(session, world.model.id) == []


@pytest.mark.parametrize("status", [s for s in ModelStatus if s != ModelStatus.PENDING])
def test_edit_of_a_model_that_is_not_pending_is_400(status: ModelStatus, given: Given) -> None:
    world = build_world(given, status=status)

    body = assert_error(edit(world.admin, world.model.id, {"name": "x"}), 400, field="status")

    assert "PENDING" in body["message"]


def test_edit_of_a_deleted_model_is_400(given: Given) -> None:
    world = build_world(given)
    deleted = world.another_model(deleted=True)

    body = assert_error(edit(world.owner, deleted.id, {"name": "x"}), 400, field="modelId")

    assert "deleted" in body["message"]


# --- delete one ----------------------------------------------------------------------------------


def test_delete_soft_deletes_with_an_audit_row(given: Given, session: Session) -> None:
    world = build_world(given)

    response = delete(world.researcher, world.model.id)

    assert response.status == 204
    session.expire_all()
    model = session.get(Model, world.model.id)
    assert model is not None
    assert model.deleted is True
    assert audits(session, model.id) == [(ModelAuditAction.DELETE, world.researcher.user_id)]


def test_delete_of_a_running_model_stops_it_and_frees_the_scheduler(given: Given, session: Session) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)
    job = given.job(world.model)
    scheduler = given.busy_scheduler(job)

    assert delete(world.owner, world.model.id).status == 204

    session.expire_all()
    model = session.get(Model, world.model.id)
    assert model is not None
    assert (model.status, model.deleted) == (ModelStatus.STOPPED, True)
    assert session.get(FLJob, job.id).status == JobStatus.COMPLETED  # type: ignore[union-attr]
    assert session.get(FLScheduler, scheduler.id).status == NetStatus.AVAILABLE  # type: ignore[union-attr]
    assert audits(session, model.id) == [
        (StatusAuditAction.STOPPED, world.owner.user_id),
        (ModelAuditAction.DELETE, world.owner.user_id),
    ]


def test_deleting_twice_is_409(given: Given) -> None:
    world = build_world(given)
    assert delete(world.admin, world.model.id).status == 204

    body = assert_error(delete(world.admin, world.model.id), 409)

    assert "already deleted" in body["message"]


# --- delete a project's models ---------------------------------------------------------------------


def test_delete_project_models_counts_what_it_deleted(given: Given, session: Session) -> None:
    world = build_world(given)
    world.another_model()
    world.another_model(deleted=True)
    other_project = given.project(world.owner.user_id, trusts=world.trusts)
    untouched = given.model(other_project)

    response = delete_all(world.owner, world.project.id)

    assert response.status == 200
    assert response.body == {"deleted": 2}
    session.expire_all()
    assert session.scalars(select(Model.deleted).where(Model.project_id == world.project.id)).all() == [
        True,
        True,
        True,
    ]
    assert session.get(Model, untouched.id).deleted is False  # type: ignore[union-attr]
    assert audits(session, world.model.id) == [(ModelAuditAction.DELETE, world.owner.user_id)]


def test_nothing_left_to_delete_is_404_unless_deletion_is_not_ensured(given: Given) -> None:
    world = build_world(given)
    assert delete_all(world.admin, world.project.id).status == 200

    assert_error(delete_all(world.admin, world.project.id), 404)
    assert_error(delete_all(world.admin, world.project.id, "true"), 404)
    response = delete_all(world.admin, world.project.id, "false")
    assert response.status == 200
    assert response.body == {"deleted": 0}


def test_delete_models_of_a_missing_or_deleted_project_is_404(given: Given) -> None:
    world = build_world(given)
    gone = given.project(world.owner.user_id, deleted=True)

    assert_error(delete_all(world.admin, uuid.uuid4()), 404)
    assert_error(delete_all(world.owner, gone.id, "false"), 404)


def test_a_bad_ensure_deletion_is_422(given: Given) -> None:
    world = build_world(given)

    assert_error(delete_all(world.admin, world.project.id, "perhaps"), 422, field="ensureDeletion")


def test_an_edit_racing_a_run_that_starts_is_refused_not_written_over_the_run(
    given: Given, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Found from outside: the edit checked PENDING from an unlocked read, so a run that started in
    between (the hub moving the model to INITIATED) was written over. The check is now made under the
    model's row lock: the edit waits for the run's transaction and then refuses (400)."""
    world = build_world(given)
    locked, done = threading.Event(), threading.Event()
    answers: list[ApiResponse] = []

    def hub_starts_a_run() -> None:
        with session_factory() as hub:
            hub.execute(select(Model).where(Model.id == world.model.id).with_for_update())
            hub.execute(update(Model).where(Model.id == world.model.id).values(status=ModelStatus.INITIATED))
            locked.set()
            done.wait(timeout=2)  # the edit is waiting on the lock by now (or, before the fix, read PENDING)
            hub.commit()

    def person_edits() -> None:
        answers.append(edit(world.researcher, world.model.id, {"name": "Renamed during a run"}))

    hub = threading.Thread(target=hub_starts_a_run)
    hub.start()
    assert locked.wait(timeout=10)
    person = threading.Thread(target=person_edits)
    person.start()
    person.join(timeout=1)  # blocked on the row lock while the run's transaction is open
    done.set()
    hub.join(timeout=10)
    person.join(timeout=10)

    [answer] = answers
    assert_error(answer, 400, field="status")
    session.expire_all()
    model = session.get(Model, world.model.id)
    assert model is not None
    assert (model.status, model.name) == (ModelStatus.INITIATED, world.model.name)
    assert audits(session, world.model.id) == []
