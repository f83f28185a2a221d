"""GET /model/{modelId}/progress: the current run's rounds, estimate and each trust's state (read)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.resolver import api_responses, current_caller, make_resolver
from flip_models.core.access import Permission, authorize_model
from flip_models.core.progress import get_model_progress as progress_of
from flip_models.core.schemas import ModelProgress
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/progress",
    summary="A model's round progress",
    tags=["models"],
    responses=api_responses(),
)
def get_model_progress(modelId: UUID) -> ModelProgress:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_model(modelId, caller, Permission.READ, session)
        return progress_of(modelId, session)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
