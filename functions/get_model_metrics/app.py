"""GET /model/{modelId}/metrics: one chart per (label, x label), a series per trust (read access)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.resolver import api_responses, current_caller, json_response, make_resolver
from flip_models.core.access import Permission, authorize_model
from flip_models.core.metrics import get_metrics_json
from flip_models.core.schemas import ModelMetrics
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/metrics",
    summary="A model's training metrics",
    tags=["models"],
    responses=api_responses(model=list[ModelMetrics]),
)
def get_model_metrics(modelId: UUID) -> Response[str]:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_model(modelId, caller, Permission.READ, session)
        charts = get_metrics_json(modelId, session)
    # The body is PostgreSQL's JSON text, sent as it is: no object per point is ever built.
    return json_response(200, charts)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
