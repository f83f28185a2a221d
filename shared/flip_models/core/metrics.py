"""A model's training metrics as charts (SPEC §3 ``get_metrics``), built by PostgreSQL in one query."""

from __future__ import annotations

import uuid
from functools import cache

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.orm import Session

from flip_models.core.schemas import ModelMetrics

#: The whole ``get_metrics`` result as JSON text, built by PostgreSQL in one query: points per
#: series, series per chart, charts in one array (``[]`` when the model has no metrics). The trust's
#: label is joined to the series, not to every point: the big sort stays narrow.
METRICS_SQL = text(
    """
    WITH series AS (
        SELECT m.label, m.x_label, m.trust,
               json_agg(json_build_object('xValue', m.x_value, 'yValue', m.result)
                        ORDER BY m.x_value, m.timestamp, m.id) AS data
        FROM fl_metrics AS m
        WHERE m.model_id = :model_id
        GROUP BY m.label, m.x_label, m.trust
    ), labelled AS (
        SELECT s.label, s.x_label, s.trust, s.data,
               COALESCE(NULLIF(t.code, ''), t.name, s.trust::text) AS series_label
        FROM series AS s
        LEFT JOIN trust AS t ON t.id = s.trust
    ), charts AS (
        SELECT label, x_label,
               json_agg(json_build_object('seriesLabel', series_label, 'data', data)
                        ORDER BY series_label, trust) AS metrics
        FROM labelled
        GROUP BY label, x_label
    )
    SELECT COALESCE(json_agg(json_build_object('yLabel', label, 'xLabel', x_label, 'metrics', metrics)
                             ORDER BY label, x_label), '[]')::text
    FROM charts
    """
)


@cache
def _charts_adapter() -> TypeAdapter[list[ModelMetrics]]:
    return TypeAdapter(list[ModelMetrics])


def get_metrics_json(model_id: uuid.UUID, session: Session) -> str:
    """:func:`get_metrics` as the JSON text of its list, for callers that only send it on.

    PostgreSQL builds the text; nothing is parsed into Python objects, so a large model's metrics
    cost one string, not an object per point.
    """
    charts: str = session.execute(METRICS_SQL, {"model_id": model_id}).scalar_one()
    return charts


def get_metrics(model_id: uuid.UUID, session: Session) -> list[ModelMetrics]:
    """One chart per (label, x_label), a series per trust (code, else name), points sorted by x.

    One SQL query builds the whole structure (:func:`get_metrics_json`); no rows gives ``[]``.
    """
    return _charts_adapter().validate_json(get_metrics_json(model_id, session))
