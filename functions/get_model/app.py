"""The model page (read access): ``GET /model/{modelId}``, and ``POST /step/model/{modelId}`` (no
body), the path FLIP's web app calls; both answer the same model, its project's query, its files,
stage dates, the roster of its newest run and its queue position."""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, make_resolver
from flip_models.api.warm import WarmAnswers
from flip_models.core.model_reads import get_model_detail
from flip_models.core.schemas import ModelDetail
from flip_models.core.versions import View, read_model_version
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()
#: The pages this container built, by tag: an unchanged ``POST`` poll costs the tag's query alone.
pages: WarmAnswers[ModelDetail] = WarmAnswers()


@app.get(
    "/model/<modelId>",
    summary="Retrieve a model",
    tags=["models"],
    responses=api_responses(headers=("ETag",)),
)
@app.post(
    "/step/model/<modelId>",
    summary="Retrieve a model (the web app's model page)",
    tags=["models"],
    responses=api_responses(headers=("ETag",), not_modified=False),
)
def get_model(modelId: UUID) -> ModelDetail:
    caller = current_caller(app)
    polled = app.current_event.http_method == "POST"  # never revalidated: answered from `pages`
    with session_scope() as session:
        read = read_model_version(View.MODEL, modelId, caller, session)
        conditional(app, read.tag, revalidate=not polled)
        page = pages.get(read.tag) if polled else None
        if page is None:
            page = get_model_detail(modelId, session)
            if polled:
                pages.put(read.tag, page)
    return page


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
