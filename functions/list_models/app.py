"""GET /models: a page of the models the caller may read, with search, filters and status counts."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, make_resolver
from flip_models.core.access import Permission, authorize_project
from flip_models.core.listing import (
    PAGE_NUMBER_MAX,
    PAGE_SIZE_MAX,
    SEARCH_MAX_LENGTH,
    ModelFilter,
    parse_project_filter,
    visible_models,
)
from flip_models.core.listing import list_models as page_of_models
from flip_models.core.schemas import ModelList
from flip_models.core.versions import list_version, tag_of
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/models",
    summary="List models",
    tags=["models"],
    responses=api_responses(errors=(400,), headers=("ETag",)),
)
def list_models(
    page_number: Annotated[
        int | None, Query(alias="pageNumber", le=PAGE_NUMBER_MAX, description="1-based; ≤ 0 means 1")
    ] = None,
    page_size: Annotated[
        int | None, Query(alias="pageSize", description=f"default 20 (also for ≤ 0), at most {PAGE_SIZE_MAX}")
    ] = None,
    search: Annotated[
        str | None, Query(max_length=SEARCH_MAX_LENGTH, description="in the model or project name, any case")
    ] = None,
    status: Annotated[str | None, Query(description="comma-separated model statuses")] = None,
    project: Annotated[
        str | None,
        Query(description="only this project's models: its id (spaces around it ignored); blank means all"),
    ] = None,
) -> ModelList:
    caller = current_caller(app)
    project_id = parse_project_filter(project)
    query = ModelFilter.from_query(page_number, page_size, search, status, project_id)
    with session_scope() as session:
        if project_id is not None:
            authorize_project(project_id, caller, Permission.READ, session)
        version = list_version(visible_models(caller, query), session)
        conditional(
            app,
            tag_of(
                "models",
                caller,
                version,
                query.page,
                query.page_size,
                query.search,
                sorted(query.statuses),
                query.project_id,
            ),
        )
        return page_of_models(caller, query, session)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
