"""A small FLIP world for the HTTP API tests: one project, its people, and a model in it.

Roles (SPEC §4): ``admin`` (admin group), ``owner`` (owns the project), ``researcher`` (researcher
group, access row, owns the model), ``colleague`` (researcher group and access row, not the model's
owner), ``viewer`` (access row, no group) and ``stranger`` (researcher group, no access row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flip_models.enums import FLBackend, ModelStatus
from flip_models.store.tables import Model, Project, Trust
from tests.api_events import ApiResponse, Person
from tests.builders import Given

ROLES = ("admin", "owner", "researcher", "colleague", "viewer", "stranger")


@dataclass
class World:
    given: Given
    people: dict[str, Person]
    project: Project
    trusts: list[Trust]
    model: Model

    def __getattr__(self, role: str) -> Person:
        if role in ROLES:
            return self.people[role]
        raise AttributeError(role)

    def another_model(self, **kwargs: Any) -> Model:
        kwargs.setdefault("trusts", self.trusts)
        kwargs.setdefault("owner_id", self.people["researcher"].user_id)
        return self.given.model(self.project, **kwargs)


def build_world(given: Given, *, status: ModelStatus = ModelStatus.PENDING) -> World:
    people = {
        "admin": Person.new("admin"),
        "owner": Person.new("researcher"),
        "researcher": Person.new("researcher"),
        "colleague": Person.new("researcher"),
        "viewer": Person.new(),
        "stranger": Person.new("researcher"),
    }
    trusts = [given.trust("GSTT", "Guy's and St Thomas'"), given.trust("KCH", "King's College Hospital")]
    project = given.project(
        people["owner"].user_id,
        trusts=trusts,
        access=[people[role].user_id for role in ("researcher", "colleague", "viewer")],
    )
    model = given.model(project, status=status, trusts=trusts, owner_id=people["researcher"].user_id)
    given.net(FLBackend.NVFLARE)  # the FL net the hub runs (GET /model/job-types reads its backend)
    return World(given, people, project, trusts, model)


def assert_error(response: ApiResponse, status: int, *, field: str | None = None) -> dict[str, Any]:
    """A JSON error body with the status, a message, CORS headers and nothing internal in it."""
    assert response.status == status, (response.status, response.raw_body)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body: dict[str, Any] = response.body
    assert body["statusCode"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    text = response.raw_body or ""
    for leak in ("Traceback", "SELECT", "sqlalchemy", "pg8000", 'File "'):
        assert leak not in text
    if field is not None:
        assert body.get("field") == field or any(
            item["loc"][-1] == field for item in body.get("detail", [])
        ), body
    return body
