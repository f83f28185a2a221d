"""POST /model: a PENDING model with one PENDING trust row per approved trust of an approved project."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.enums import ModelStatus, ProjectStatus, TrustIntersectStatus
from flip_models.store.tables import Model, ModelsAudit, ModelTrustIntersect
from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world


def create(caller: Person, body: Any = None, **kwargs: Any) -> ApiResponse:
    return caller.call("create_model", "POST", "/model", body=body, **kwargs)


def test_creates_a_pending_model_with_the_approved_trusts(given: Given, session: Session) -> None:
    world = build_world(given)
    unapproved = given.trust("UCLH")
    given.trust_for_project(world.project, unapproved, approved=False)

    response = create(
        world.researcher,
        {"name": "  Chest CT  ", "description": "Second attempt", "projectId": str(world.project.id)},
    )

    assert response.status == 201
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert list(response.body) == ["id"]
    model = session.get(Model, uuid.UUID(response.body["id"]))
    assert model is not None
    assert (model.name, model.description, model.status, model.deleted) == (
        "Chest CT",
        "Second attempt",
        ModelStatus.PENDING,
        False,
    )
    assert (model.project_id, model.owner_id) == (world.project.id, world.researcher.user_id)
    rows = session.execute(
        select(ModelTrustIntersect.trust_id, ModelTrustIntersect.status).where(
            ModelTrustIntersect.model_id == model.id
        )
    ).all()
    assert sorted(rows) == sorted((t.id, TrustIntersectStatus.PENDING) for t in world.trusts)
    assert session.scalar(select(func.count()).where(ModelsAudit.model_id == model.id)) == 0


def test_description_defaults_to_empty(given: Given, session: Session) -> None:
    world = build_world(given)

    response = create(world.owner, {"name": "No description", "projectId": str(world.project.id)})

    assert response.status == 201
    model = session.get(Model, uuid.UUID(response.body["id"]))
    assert model is not None
    assert model.description == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 76}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "ok", "description": "d" * 251}, "description"),
        ({"name": "ok", "projectId": "nope"}, "projectId"),
        ({"name": "ok", "status": "RUNNING"}, "status"),
        ({"name": 12}, "name"),
    ],
    ids=[
        "name-76",
        "name-blank",
        "name-missing",
        "description-251",
        "project-not-uuid",
        "extra-field",
        "name-int",
    ],
)
def test_a_bad_body_is_422_naming_the_field(body: dict[str, Any], field: str, given: Given) -> None:
    world = build_world(given)
    body.setdefault("projectId", str(world.project.id))

    error = assert_error(create(world.admin, body), 422, field=field)

    assert ["body", field] in [item["loc"] for item in error["detail"]]
    assert "x" * 76 not in str(error)
    assert "d" * 251 not in str(error)


def test_a_name_of_75_and_description_of_250_are_accepted(given: Given) -> None:
    world = build_world(given)

    response = create(
        world.admin, {"name": "n" * 75, "description": "d" * 250, "projectId": str(world.project.id)}
    )

    assert response.status == 201


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_a_body_that_is_not_a_json_object_is_422(raw: str, given: Given) -> None:
    world = build_world(given)

    assert_error(create(world.admin, raw_body=raw), 422)


def test_a_missing_project_is_404(given: Given) -> None:
    world = build_world(given)

    assert_error(create(world.admin, {"name": "x", "projectId": str(uuid.uuid4())}), 404)


def test_a_deleted_project_is_404(given: Given) -> None:
    world = build_world(given)
    gone = given.project(world.owner.user_id, trusts=world.trusts, deleted=True)

    assert_error(create(world.owner, {"name": "x", "projectId": str(gone.id)}), 404)


@pytest.mark.parametrize("status", [ProjectStatus.UNSTAGED, ProjectStatus.STAGED])
def test_a_project_not_approved_is_400(status: ProjectStatus, given: Given, session: Session) -> None:
    world = build_world(given)
    project = given.project(world.owner.user_id, status=status, trusts=world.trusts)

    body = assert_error(
        create(world.owner, {"name": "x", "projectId": str(project.id)}), 400, field="projectId"
    )

    assert "APPROVED" in body["message"]
    assert session.scalar(select(func.count()).where(Model.project_id == project.id)) == 0


def test_a_project_without_an_approved_trust_is_400(given: Given) -> None:
    world = build_world(given)
    project = given.project(world.owner.user_id)
    given.trust_for_project(project, world.trusts[0], approved=False)

    body = assert_error(
        create(world.owner, {"name": "x", "projectId": str(project.id)}), 400, field="projectId"
    )

    assert "approved trust" in body["message"]
