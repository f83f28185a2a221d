"""POST /model: a new PENDING model in an approved project, one trust row per approved trust."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import Permission, authorize_project
from flip_models.core.creation import create_model as create
from flip_models.core.schemas import CreatedId, CreateModelRequest
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.post(
    "/model",
    summary="Create a model",
    tags=["models"],
    responses=api_responses(201, "Created", errors=(400,)),
)
def create_model(request: Annotated[CreateModelRequest, Body()]) -> Response[CreatedId]:
    caller = current_caller(app)
    with session_scope() as session:
        project = authorize_project(request.project_id, caller, Permission.CREATE, session)
        model_id = create(request, project, caller.user_id, session)
    metrics.add_metric(name="ModelsCreated", unit=MetricUnit.Count, value=1)
    return Response(201, content_types.APPLICATION_JSON, CreatedId(id=model_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
