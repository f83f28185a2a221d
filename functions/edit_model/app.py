"""PUT /model/{modelId}: rename or re-describe a PENDING model (modify access); 204."""

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import Permission, authorize_model
from flip_models.core.commands import edit_model_by_user
from flip_models.core.schemas import ModelDetails
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.put(
    "/model/<modelId>",
    summary="Edit a model",
    tags=["models"],
    responses=api_responses(204, "Edited", errors=(400,)),
)
def edit_model(modelId: UUID, details: Annotated[ModelDetails, Body()]) -> Response[None]:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_model(modelId, caller, Permission.MODIFY, session, allow_deleted=True)
        edit_model_by_user(modelId, details, caller.user_id, session)  # deleted or not PENDING → 400
    return Response(204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
