"""GET /models/projects: the projects the caller may read, by name (the web app's project filter)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import current_caller, make_resolver
from flip_models.core.listing import list_projects as projects_of
from flip_models.core.schemas import ProjectSummary
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/models/projects", summary="List the projects one may read", tags=["projects"], responses=api_responses()
)
def list_projects() -> list[ProjectSummary]:
    caller = current_caller(app)
    with session_scope() as session:
        return projects_of(caller, session)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
