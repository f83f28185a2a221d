"""DELETE /model/{modelId}: soft-delete a model, stopping an active run first (modify access); 204."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import Permission, authorize_model
from flip_models.core.commands import delete_model as delete
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.delete(
    "/model/<modelId>",
    summary="Delete a model",
    tags=["models"],
    responses=api_responses(204, "Deleted", errors=(409,)),
)
def delete_model(modelId: UUID) -> Response[None]:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_model(modelId, caller, Permission.MODIFY, session, allow_deleted=True)
        delete(modelId, caller.user_id, session)  # already deleted → 409
    metrics.add_metric(name="ModelsDeleted", unit=MetricUnit.Count, value=1)
    return Response(204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
