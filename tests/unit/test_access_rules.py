"""The SPEC §4 access rules as a table, and the caller read from Cognito claims."""

from __future__ import annotations

import uuid

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from sqlalchemy.orm import Session

from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import (
    Caller,
    Permission,
    ProjectFacts,
    authorize_model,
    authorize_project,
    is_allowed,
    load_project_facts,
)
from flip_models.enums import ProjectStatus
from flip_models.errors import ForbiddenError, NotFoundError, UnauthorizedError
from tests.builders import Given

OWNER = uuid.uuid4()
MODEL_OWNER = uuid.uuid4()


def caller(user_id: uuid.UUID | None = None, *, admin: bool = False, researcher: bool = False) -> Caller:
    groups = {"admin"} if admin else set()
    if researcher:
        groups.add("researcher")
    return Caller.from_groups(
        user_id or uuid.uuid4(), groups, admin_group="admin", researcher_group="researcher"
    )


def project(*, access: bool) -> ProjectFacts:
    return ProjectFacts(uuid.uuid4(), OWNER, ProjectStatus.APPROVED, False, access)


R, M, C, D = Permission.READ, Permission.MODIFY, Permission.CREATE, Permission.DELETE_PROJECT_MODELS

# (who, has access row, permissions granted)
TABLE = [
    ("admin", caller(admin=True), False, {R, M, C, D}),
    ("project owner", caller(OWNER), False, {R, M, C, D}),
    ("model owner, researcher, access", caller(MODEL_OWNER, researcher=True), True, {R, M, C}),
    ("model owner, researcher, no access", caller(MODEL_OWNER, researcher=True), False, set()),
    ("model owner, viewer, access", caller(MODEL_OWNER), True, {R}),
    ("researcher, access", caller(researcher=True), True, {R, C}),
    ("viewer, access", caller(), True, {R}),
    ("researcher, no access", caller(researcher=True), False, set()),
    ("nobody", caller(), False, set()),
]


@pytest.mark.parametrize(("who", "who_caller", "access", "granted"), TABLE, ids=[row[0] for row in TABLE])
def test_rules(who: str, who_caller: Caller, access: bool, granted: set[Permission]) -> None:
    facts = project(access=access)

    allowed = {p for p in Permission if is_allowed(who_caller, p, facts, model_owner_id=MODEL_OWNER)}

    assert allowed == granted


def caller_from_claims(claims: object) -> Caller:
    """The caller the API door reads from a request carrying ``claims`` (group names from Settings)."""
    app = make_resolver()
    app.current_event = APIGatewayProxyEvent({"requestContext": {"authorizer": {"claims": claims}}})
    return current_caller(app)


def test_group_names_come_from_settings(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from flip_models.store import db

    monkeypatch.setenv("ADMIN_GROUP", "flip-admins")
    db.reset_engine()
    try:
        who = caller_from_claims({"sub": str(uuid.uuid4()), "cognito:groups": "admin,flip-admins"})
        assert who.is_admin
        assert not caller_from_claims({"sub": str(uuid.uuid4()), "cognito:groups": "admin"}).is_admin
    finally:
        monkeypatch.undo()
        db.reset_engine()


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ("admin", {"admin"}),
        ("admin,researcher", {"admin", "researcher"}),
        ("[admin researcher]", {"admin", "researcher"}),
        (["researcher"], {"researcher"}),
        (None, set()),
        ("", set()),
    ],
)
def test_cognito_groups_in_every_shape_api_gateway_sends(
    groups: object, expected: set[str], database_url: str
) -> None:
    claims = {"sub": str(uuid.uuid4())}
    if groups is not None:
        claims["cognito:groups"] = groups  # type: ignore[assignment]

    assert caller_from_claims(claims).groups == expected


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": "user-1"}, {"email": "a@b.c"}])
def test_no_usable_sub_is_unauthorized(claims: dict[str, str]) -> None:
    with pytest.raises(UnauthorizedError):
        caller_from_claims(claims)


def test_authorize_answers_404_before_403(given: Given, session: Session) -> None:
    stranger = caller(researcher=True)
    existing = given.model()

    with pytest.raises(NotFoundError):
        authorize_model(uuid.uuid4(), stranger, Permission.READ, session)
    with pytest.raises(ForbiddenError):
        authorize_model(existing.id, stranger, Permission.READ, session)
    with pytest.raises(NotFoundError):
        authorize_project(uuid.uuid4(), stranger, Permission.READ, session)


def test_project_facts_see_the_access_row_of_this_caller_only(given: Given, session: Session) -> None:
    member, outsider = uuid.uuid4(), uuid.uuid4()
    row = given.project(access=[member])
    given.project(access=[outsider])

    facts = load_project_facts(row.id, caller(member), session)
    assert facts is not None
    assert facts.has_access_row is True
    other = load_project_facts(row.id, caller(outsider), session)
    assert other is not None
    assert other.has_access_row is False
    assert load_project_facts(uuid.uuid4(), caller(member), session) is None
