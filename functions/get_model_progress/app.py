"""GET /model/{modelId}/progress: the current run's rounds, estimate and each trust's state (read)."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, make_resolver
from flip_models.core.progress import progress_events, progress_from, remaining_seconds
from flip_models.core.schemas import ModelProgress
from flip_models.core.versions import View, read_model_version, tag_of
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/progress",
    summary="A model's round progress",
    tags=["models"],
    responses=api_responses(headers=("ETag",)),
)
def get_model_progress(modelId: UUID) -> ModelProgress:
    caller = current_caller(app)
    now = datetime.now(UTC)
    with session_scope() as session:
        read = read_model_version(View.PROGRESS, modelId, caller, session, part=progress_events(modelId))
        assert read.extra is not None  # the aggregate is a JSON object, never NULL
        # A card whose estimate is counting down changes with the clock alone: its tag too.
        conditional(app, tag_of(View.PROGRESS, caller, read.version, remaining_seconds(read.extra, now)))
        return progress_from(modelId, read.extra, session, now)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
