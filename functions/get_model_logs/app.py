"""GET /model/{modelId}/logs: the model's log rows, oldest first, as a JSON array (read access).

Without a cursor, the newest rows; the pages of older and newer rows are in the ``Link`` (``rel="prev"``,
``rel="next"``), ``X-Prev-Cursor`` and ``X-Next-Cursor`` headers.
"""

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, json_response, make_resolver, page_headers
from flip_models.core.logs import (
    LOGS_DEFAULT_LIMIT,
    LOGS_MAX_LIMIT,
    get_logs_page,
    logs_version,
    settle_horizon,
)
from flip_models.core.schemas import LogEntry
from flip_models.core.versions import View, read_model_version
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/logs",
    summary="A model's logs",
    tags=["models"],
    responses=api_responses(
        errors=(400,), model=list[LogEntry], headers=("Link", "X-Prev-Cursor", "X-Next-Cursor", "ETag")
    ),
)
def get_model_logs(
    modelId: UUID,
    limit: Annotated[int, Query(ge=1, le=LOGS_MAX_LIMIT)] = LOGS_DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    caller = current_caller(app)
    with session_scope() as session:
        window = logs_version(modelId, limit=limit, cursor=cursor)
        # The settle horizon comes with the tag: read before the page's statement, as it must be.
        read = read_model_version(
            View.LOGS, modelId, caller, session, limit, cursor, part=window, aside=settle_horizon()
        )
        conditional(app, read.tag)
        page = get_logs_page(modelId, session, limit=limit, cursor=cursor, horizon=read.aside)
    # The page is already the JSON text of its array: sent as it is, not serialised again.
    return json_response(200, page.body, page_headers(app, limit, page.next_cursor, page.prev_cursor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
