"""DELETE /project/{projectId}/models: soft-delete every model of a project (admin or owner)."""

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import Permission, authorize_project
from flip_models.core.commands import delete_models
from flip_models.core.schemas import DeletedCount
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.delete(
    "/project/<projectId>/models",
    summary="Delete a project's models",
    tags=["projects"],
    responses=api_responses(),
)
def delete_project_models(
    projectId: UUID,
    ensure_deletion: Annotated[bool, Query(alias="ensureDeletion")] = True,
) -> DeletedCount:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_project(projectId, caller, Permission.DELETE_PROJECT_MODELS, session)
        deleted = delete_models(projectId, caller.user_id, session, ensure_deletion=ensure_deletion)
    metrics.add_metric(name="ModelsDeleted", unit=MetricUnit.Count, value=deleted)
    return DeletedCount(deleted=deleted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
