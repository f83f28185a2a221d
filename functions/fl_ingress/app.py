"""The FL ingress: FLIP's internal HTTP routes (``PUT /api/model/{id}/status/{status}``, ``POST
/api/model/{id}/logs``, ``POST /api/model/{id}/metrics``) for FL servers that call the hub over HTTP,
checked and put in the FL queues (SPEC §10)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.fl.ingress import make_ingress
from flip_models.observability import logger, metrics, tracer

app = make_ingress()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
