"""GET /model/{modelId}/metrics: one chart per (label, x label), a series per trust (read access);
a series longer than ``maxPoints`` is downsampled, keeping its shape and saying its true length.

An answer that would pass its byte budget leaves its last series out: the ``X-Series-Omitted`` and
``X-Points-Omitted`` headers (on every answer, ``0`` when nothing is left out) say how many.
"""

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.api.documentation import api_responses
from flip_models.api.resolver import conditional, current_caller, json_response, make_resolver, revalidating
from flip_models.core.metrics import DEFAULT_MAX_POINTS, MAX_POINTS_LIMIT, get_metrics_answer
from flip_models.core.schemas import ModelMetrics
from flip_models.core.versions import View, metric_rows_version, read_model_version, tag_of
from flip_models.observability import logger, metrics, tracer
from flip_models.store.db import session_scope

app = make_resolver()


@app.get(
    "/model/<modelId>/metrics",
    summary="A model's training metrics",
    tags=["models"],
    responses=api_responses(
        model=list[ModelMetrics], headers=("X-Series-Omitted", "X-Points-Omitted", "ETag")
    ),
)
def get_model_metrics(
    modelId: UUID,
    max_points: Annotated[
        int,
        Query(
            alias="maxPoints",
            ge=2,
            le=MAX_POINTS_LIMIT,
            description="the most points a series may have (longer: downsampled, first and last kept)",
        ),
    ] = DEFAULT_MAX_POINTS,
) -> Response[str]:
    caller = current_caller(app)
    asked = revalidating(app)
    with session_scope() as session:
        # Asked with a tag: the rows' version first (it may save the answer). Else the metrics query
        # versions the rows it answers with: the rows are read once.
        rows = metric_rows_version() if asked else None
        read = read_model_version(View.METRICS, modelId, caller, session, max_points, part=rows)
        if asked:
            conditional(app, read.tag)
        answer = get_metrics_answer(modelId, session, max_points)
    if not asked:
        conditional(app, tag_of(View.METRICS, caller, read.version + answer.rows_version, max_points))
    # Written once as JSON text by the core: no pydantic object per point is built.
    omitted = {"X-Series-Omitted": str(answer.series_omitted), "X-Points-Omitted": str(answer.points_omitted)}
    return json_response(200, answer.body, omitted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # responses can be large, and are user data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
