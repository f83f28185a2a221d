"""Creating a model (SPEC §4): ``POST /model``. A module of its own: creating touches the model and
its project's trusts, and none of the run tables (``fl_job``, ``fl_scheduler``...) that editing and
deleting lock through :mod:`flip_models.core.transitions`, so the create function declares only
the tables it writes (a cold start declares each table it imports).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.core.access import ProjectFacts
from flip_models.core.schemas import CreateModelRequest
from flip_models.enums import ModelStatus, ProjectStatus, TrustApprovalStatus, TrustIntersectStatus
from flip_models.errors import InvalidError
from flip_models.store.tables import Model, ModelTrustIntersect, ProjectTrustIntersect


def create_model(
    request: CreateModelRequest, project: ProjectFacts, owner_id: uuid.UUID, session: Session
) -> uuid.UUID:
    """A new ``PENDING`` model with one ``PENDING`` trust row per approved trust of its project.

    The project must be ``APPROVED`` and have at least one approved trust (``status = 'APPROVED'``,
    else InvalidError on ``projectId``). Like FLIP, creating a model writes no audit row; its id and
    creation time are set here, as flip-api sets them.
    """
    if project.status != ProjectStatus.APPROVED:
        raise InvalidError(
            f"project {project.project_id} is {project.status}, not APPROVED: models cannot be added yet",
            field="projectId",
        )
    trust_ids = session.scalars(
        select(ProjectTrustIntersect.trust_id)
        .where(
            ProjectTrustIntersect.project_id == project.project_id,
            ProjectTrustIntersect.status == TrustApprovalStatus.APPROVED,
            ProjectTrustIntersect.trust_id.is_not(None),
        )
        .distinct()
        .order_by(ProjectTrustIntersect.trust_id)
    ).all()
    if not trust_ids:
        raise InvalidError(f"project {project.project_id} has no approved trust", field="projectId")
    model = Model(
        id=uuid.uuid4(),
        name=request.name,
        description=request.description,
        status=ModelStatus.PENDING,
        project_id=project.project_id,
        owner_id=owner_id,
    )
    session.add(model)
    session.flush()
    session.add_all(
        ModelTrustIntersect(
            id=uuid.uuid4(), model_id=model.id, trust_id=trust_id, status=TrustIntersectStatus.PENDING
        )
        for trust_id in trust_ids
    )
    session.flush()
    return model.id
