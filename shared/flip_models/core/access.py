"""Who may do what (SPEC §4): the caller's identity, the four access rules, the checks that apply them.

This is the one home of the access rules and of who the caller is (from the Cognito claims). The
checks answer 404 before 403: a model or project that does not exist (or is soft-deleted) is "not
found" for everyone, and an existing one the caller may not use is "forbidden". Existence of a model
is not a secret worth hiding: ids are random UUIDs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from flip_models.enums import ModelStatus, ProjectStatus
from flip_models.errors import ForbiddenError, NotFoundError, UnauthorizedError
from flip_models.store.tables import Model, Project, ProjectUserAccess


@dataclass(frozen=True)
class Caller:
    """The signed-in person: Cognito ``sub`` and groups, with the two roles the rules need."""

    user_id: uuid.UUID
    groups: frozenset[str]
    is_admin: bool
    is_researcher: bool

    @classmethod
    def from_groups(
        cls, user_id: uuid.UUID, groups: Iterable[str], *, admin_group: str, researcher_group: str
    ) -> Caller:
        names = frozenset(groups)
        return cls(user_id, names, admin_group in names, researcher_group in names)

    @classmethod
    def from_claims(cls, claims: object, *, admin_group: str, researcher_group: str) -> Caller:
        """The caller from Cognito claims (``sub``, ``cognito:groups``); none, or a ``sub`` that is not
        a UUID → :class:`UnauthorizedError` (401)."""
        known: Mapping[str, Any] = claims if isinstance(claims, Mapping) else {}
        subject = known.get("sub")
        try:
            user_id = uuid.UUID(str(subject)) if subject else None
        except ValueError:
            user_id = None
        if user_id is None:
            raise UnauthorizedError("sign in first: the request carries no user identity")
        return cls.from_groups(
            user_id,
            _parse_groups(known.get("cognito:groups")),
            admin_group=admin_group,
            researcher_group=researcher_group,
        )


def _parse_groups(value: object) -> list[str]:
    """``cognito:groups`` as API Gateway passes it: a list, ``"a,b"`` or ``"[a b]"``."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(value, str):
        text = value.strip().removeprefix("[").removesuffix("]")
        return [part for part in text.replace(",", " ").split() if part]
    return []


class Permission(StrEnum):
    READ = "read"
    MODIFY = "modify"
    CREATE = "create"
    DELETE_PROJECT_MODELS = "delete a project's models"


@dataclass(frozen=True)
class ProjectFacts:
    """What the rules need to know about a project and the caller's place in it."""

    project_id: uuid.UUID
    owner_id: uuid.UUID
    status: ProjectStatus
    deleted: bool
    has_access_row: bool


@dataclass(frozen=True)
class ModelFacts:
    """What the rules and routes need to know about a model before acting on it."""

    model_id: uuid.UUID
    owner_id: uuid.UUID
    status: ModelStatus
    deleted: bool
    project: ProjectFacts


def is_allowed(
    caller: Caller, permission: Permission, project: ProjectFacts, model_owner_id: uuid.UUID | None = None
) -> bool:
    """SPEC §4 access rules.

    read = admin, project owner or an access row; modify a model = admin, project owner, or (model
    owner and researcher and access row); create = admin, project owner, or (researcher and access
    row); delete a project's models = admin or project owner.
    """
    if caller.is_admin or project.owner_id == caller.user_id:
        return True
    if permission is Permission.READ:
        return project.has_access_row
    if permission is Permission.MODIFY:
        return model_owner_id == caller.user_id and caller.is_researcher and project.has_access_row
    if permission is Permission.CREATE:
        return caller.is_researcher and project.has_access_row
    return False


def _has_access_row(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Correlated EXISTS: the user has a ``project_user_access`` row on the outer query's project."""
    return exists(
        select(ProjectUserAccess.id).where(
            ProjectUserAccess.project_id == Project.id, ProjectUserAccess.user_id == user_id
        )
    )


def load_project_facts(project_id: uuid.UUID, caller: Caller, session: Session) -> ProjectFacts | None:
    """The project and whether the caller has an access row on it (one query); None when missing."""
    row = session.execute(
        select(
            Project.id,
            Project.owner_id,
            Project.status,
            Project.deleted,
            _has_access_row(caller.user_id).label("has_access_row"),
        ).where(Project.id == project_id)
    ).one_or_none()
    return None if row is None else ProjectFacts(*row)


def model_facts_columns(caller: Caller) -> tuple[ColumnElement[Any] | QueryableAttribute[Any], ...]:
    """The columns of :class:`ModelFacts` (model, then project facts), over ``model`` joined to
    ``projects``: for a query that reads more along with them (:mod:`core.versions`)."""
    return (
        Model.id,
        Model.owner_id,
        Model.status,
        Model.deleted,
        Project.id,
        Project.owner_id,
        Project.status,
        Project.deleted,
        _has_access_row(caller.user_id),
    )


def load_model_facts(model_id: uuid.UUID, caller: Caller, session: Session) -> ModelFacts | None:
    """The model with its project facts (one query); None when the model does not exist."""
    row = session.execute(
        select(*model_facts_columns(caller))
        .join(Project, Project.id == Model.project_id)
        .where(Model.id == model_id)
    ).one_or_none()
    if row is None:
        return None
    return ModelFacts(row[0], row[1], row[2], row[3], project=ProjectFacts(*row[4:]))


def authorize_project(
    project_id: uuid.UUID, caller: Caller, permission: Permission, session: Session
) -> ProjectFacts:
    """The project if it exists, is not deleted and the caller holds ``permission`` on it.

    Missing or deleted → :class:`NotFoundError`; no permission → :class:`ForbiddenError`.
    """
    project = load_project_facts(project_id, caller, session)
    if project is None or project.deleted:
        raise NotFoundError(f"project {project_id} does not exist", field="projectId")
    if not is_allowed(caller, permission, project):
        raise ForbiddenError(f"you may not {permission} the models of project {project_id}")
    return project


def authorize_model(
    model_id: uuid.UUID,
    caller: Caller,
    permission: Permission,
    session: Session,
    *,
    allow_deleted: bool = False,
) -> ModelFacts:
    """The model if it exists and the caller holds ``permission`` on it.

    Missing, in a deleted project, or soft-deleted (unless ``allow_deleted``: the route then decides
    what a deleted model means) → NotFoundError; no permission → ForbiddenError.
    """
    return check_model(
        model_id, load_model_facts(model_id, caller, session), caller, permission, allow_deleted
    )


def check_model(
    model_id: uuid.UUID,
    model: ModelFacts | None,
    caller: Caller,
    permission: Permission,
    allow_deleted: bool = False,
) -> ModelFacts:
    """:func:`authorize_model` on facts already loaded (with a read's version, :mod:`core.versions`)."""
    if model is None or model.project.deleted or (model.deleted and not allow_deleted):
        raise NotFoundError(f"model {model_id} does not exist", field="modelId")
    if not is_allowed(caller, permission, model.project, model.owner_id):
        raise ForbiddenError(f"you may not {permission} model {model_id}")
    return model


def readable_projects(caller: Caller) -> ColumnElement[bool]:
    """SQL condition on ``Project`` selecting the projects whose models the caller may read."""
    if caller.is_admin:
        return true()
    return or_(Project.owner_id == caller.user_id, _has_access_row(caller.user_id))
