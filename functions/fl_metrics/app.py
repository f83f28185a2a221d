"""`fl-metrics` consumer: FL server messages applied once, rejected ones dead-lettered (SPEC §5)."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.fl.batch import FL_METRICS, handle_batch
from flip_models.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_batch(FL_METRICS, event, context)
