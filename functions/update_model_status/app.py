"""PATCH /model/{modelId}/status/{status}: a person stops a run or resets a model to PENDING (409 when
that would leave a run behind: SPEC §3, people's status changes)."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.access import Permission, authorize_model
from flip_models.core.schemas import StatusChange
from flip_models.core.transitions import update_model_status_by_user
from flip_models.enums import ModelStatus
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.patch(
    "/model/<modelId>/status/<status>",
    summary="Set a model's status",
    tags=["models"],
    responses=api_responses(errors=(400, 409)),
)
def update_model_status(modelId: UUID, status: ModelStatus) -> StatusChange:
    caller = current_caller(app)
    with session_scope() as session:
        authorize_model(modelId, caller, Permission.MODIFY, session)
        now, changed = update_model_status_by_user(modelId, status, caller.user_id, session)
    if changed:
        metrics.add_metric(name="ModelStatusChanged", unit=MetricUnit.Count, value=1)
    return StatusChange(status=now, changed=changed)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
