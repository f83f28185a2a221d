"""EventBridge schedule: runs whose FL server went silent are failed, their scheduler freed (SPEC §8)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.fl.stale_runs import fail_stale_runs
from flip_models.observability import logger, metrics, tracer
from flip_models.store.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return fail_stale_runs(get_settings().stale_run_minutes).summary()
