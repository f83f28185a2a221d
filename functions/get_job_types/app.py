"""GET /model/job-types: job type → required files, for the FL backend the nets run (FLIP's get_job_types)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.job_types import job_types
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope
from flip_models.store.settings import get_settings

app = make_resolver()


@app.get(
    "/model/job-types",
    summary="Job types and the files each needs",
    description=(
        "The manifest of the FL backend the nets report (`fl_nets.fl_backend`): job type → the "
        "file names a model must have uploaded for it. Any signed-in user."
    ),
    tags=["models"],
    responses=api_responses(),
)
def get_job_types() -> dict[str, list[str]]:
    current_caller(app)  # signed in: the manifest is the same for everyone
    with session_scope() as session:
        return job_types(get_settings(), session)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
