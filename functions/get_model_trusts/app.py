"""GET /model/{modelId}/trusts: the trusts taking part in a model, with their status (read access)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, make_resolver
from flip_models.core.schemas import ModelTrust
from flip_models.core.trusts import get_model_trusts as trusts_of
from flip_models.core.versions import View, read_model_version
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/trusts",
    summary="A model's trusts",
    tags=["models"],
    responses=api_responses(headers=("ETag",)),
)
def get_model_trusts(modelId: UUID) -> list[ModelTrust]:
    caller = current_caller(app)
    with session_scope() as session:
        conditional(app, read_model_version(View.TRUSTS, modelId, caller, session).tag)
        return trusts_of(modelId, session)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
