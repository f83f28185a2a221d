"""GET /model/{modelId}/status: status and deleted flag (read access; answers for deleted models)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, make_resolver
from flip_models.core.schemas import ModelStatusView
from flip_models.core.versions import View, read_model_version
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/status",
    summary="A model's status",
    tags=["models"],
    responses=api_responses(headers=("ETag",)),
)
def get_model_status(modelId: UUID) -> ModelStatusView:
    caller = current_caller(app)
    with session_scope() as session:
        read = read_model_version(View.STATUS, modelId, caller, session, allow_deleted=True)
    conditional(app, read.tag)
    model = read.facts
    return ModelStatusView(status=model.status, deleted=model.deleted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
