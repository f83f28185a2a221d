"""A model's training metrics as charts (SPEC §3 ``get_metrics``, §4 ``maxPoints``), always small enough
to send: a series longer than its share is downsampled with largest-triangle-three-buckets (LTTB).

PostgreSQL reads each series once, sorted (one query), and sends a series that fits as its points'
text, which Python puts into the answer's form without parsing a number, and a longer one as its
exact float8s in binary, which Python unpacks in C and downsamples in one pass; then it joins the
texts. A series keeps its first and last points and its shape, and says how long it really is
(``totalPoints``). Each series may have ``max_points`` (default 1,000, at
most 10,000), and all of them together :data:`POINT_BUDGET`.

Points are not bytes: many short series with long labels make a large answer of few points. So the
answer also counts its bytes as Lambda will (:mod:`flip_models.core.response_size`: escaped into the
response's JSON) and stops before :data:`METRICS_MAX_BYTES`: the series that come first (by chart,
then series label) are sent whole, the rest are left out and counted (:class:`MetricsAnswer`), so an
answer stays under Lambda's 6 MB and its body under 5 MB whatever the data.
"""

from __future__ import annotations

import json
import sys
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.orm import Session

from flip_models.core.response_size import escaped_size
from flip_models.core.schemas import ModelMetrics

DEFAULT_MAX_POINTS = 1_000
MAX_POINTS_LIMIT = 10_000
#: Points in one answer, all series together (~70 bytes each at worst: ~3.5 MB).
POINT_BUDGET = 50_000
#: An answer's body, as escaped into Lambda's response, ends before this many bytes (SPEC §4: the
#: body under 5 MB, the whole response under 6 MB; headers and the response's own keys are ~1 KB).
METRICS_MAX_BYTES = 4_000_000

#: Every series of the model: its chart (label, x label), its trust's label (code, else name), how many
#: points it stores and how many a chart can draw (finite ones: FL servers send only those, SPEC §5,
#: but another writer of the table might not, and JSON has no NaN or infinity), and those points sorted
#: by x, aggregated once as an array of ``[x, y]`` and sent in one of two forms, chosen by the series'
#: share (``:max_points`` each, ``:budget`` for all the series together, as :func:`_share` says):
#: a series that fits comes as the text ``[x0,y0,x1,y1,…]`` written by PostgreSQL (float8's shortest
#: exact form: ``12``, ``0.1875``, ``1e-05``), which Python passes on without parsing a number; a series
#: to downsample comes as the array's binary form (``array_send``: the exact float8s, 12 bytes each),
#: which Python unpacks in C instead of parsing ~20 MB of text at 1M rows (0.5 s, most of the time the
#: handler spent above its query, issue 26).
METRICS_SQL = text(
    """
    WITH series AS (
        SELECT m.label, m.x_label, m.trust, count(*) AS total, count(*) FILTER (WHERE finite) AS drawable,
               sum(m.xmin::text::bigint) AS xmin_sum,
               array_agg(ARRAY[m.x_value, m.result] ORDER BY m.x_value, m.timestamp, m.id)
                   FILTER (WHERE finite) AS xy
        FROM fl_metrics AS m,
             LATERAL (SELECT m.x_value > '-Infinity' AND m.x_value < 'Infinity'
                             AND m.result > '-Infinity' AND m.result < 'Infinity' AS finite) AS f
        WHERE m.model_id = :model_id
        GROUP BY m.label, m.x_label, m.trust
    ), shared AS (
        SELECT s.*, greatest(2, least(:max_points, :budget / count(*) OVER ())) AS share FROM series AS s
    )
    SELECT s.label, s.x_label, COALESCE(NULLIF(t.code, ''), t.name, s.trust::text) AS series_label,
           s.total, s.drawable,
           CASE WHEN s.drawable <= s.share THEN '[' || COALESCE(array_to_string(s.xy, ','), '') || ']'
           END AS points,
           CASE WHEN s.drawable > s.share THEN array_send(s.xy) END AS packed,
           s.xmin_sum
    FROM shared AS s
    LEFT JOIN trust AS t ON t.id = s.trust
    ORDER BY s.label, s.x_label, series_label, s.trust
    """
)

#: ``array_send`` of a 2-D float8 array: 3 words (dimensions, null flag, element type) and 2 per
#: dimension (length, lower bound), then per element a 4-byte length and the 8 bytes, big-endian.
_PACKED_HEADER = 28

_POINT = '{"xValue":%s,"yValue":%s}'


@dataclass(frozen=True)
class MetricsAnswer:
    """An answer: the JSON text of its list of charts, and what the byte budget left out of it: how
    many series (the last ones in the answer's order) and how many points they store."""

    body: str
    series_omitted: int = 0
    points_omitted: int = 0
    #: ``count:sum(xmin)`` of the rows answered: their version (:func:`core.versions.metric_rows_version`).
    rows_version: str = "0:0"


def get_metrics_answer(
    model_id: uuid.UUID,
    session: Session,
    max_points: int = DEFAULT_MAX_POINTS,
    *,
    max_bytes: int = METRICS_MAX_BYTES,
) -> MetricsAnswer:
    """:func:`get_metrics` as the JSON text of its list (what the API sends), assembled from the texts
    PostgreSQL wrote; only a series longer than its share is unpacked, downsampled and written.
    The text, escaped into Lambda's response, takes at most ``max_bytes``: the first series that
    would pass it is left out, with every one after it (counted in the answer)."""
    rows = session.execute(METRICS_SQL, metrics_params(model_id, max_points)).all()
    share = _share(max_points, len(rows))
    charts: list[str] = []
    chart: tuple[str, str] | None = None
    series: list[str] = []
    size = 2  # the list's brackets
    omitted = omitted_points = 0
    rows_version = f"{sum(row.total for row in rows)}:{sum(int(row.xmin_sum) for row in rows)}"
    for label, x_label, series_label, total, drawable, points, packed, _xmin_sum in rows:
        if omitted:
            omitted, omitted_points = omitted + 1, omitted_points + total
            continue
        data = _downsampled(packed, share) if points is None else _as_points(points, drawable)
        text = f'{{"seriesLabel":{json.dumps(series_label)},"data":{data},"totalPoints":{total}}}'
        cost = escaped_size(text) + 1  # and a comma
        new_chart = (label, x_label) != chart
        if new_chart:  # the chart's own text around its series, and a comma
            cost += escaped_size(_chart_json(label, x_label, [])) + 1
        if size + cost > max_bytes:
            omitted, omitted_points = 1, total
            continue
        size += cost
        if new_chart:
            if chart is not None:
                charts.append(_chart_json(*chart, series))
            chart, series = (label, x_label), []
        series.append(text)
    if chart is not None:
        charts.append(_chart_json(*chart, series))
    return MetricsAnswer(f"[{','.join(charts)}]", omitted, omitted_points, rows_version)


def _chart_json(label: str, x_label: str, series: list[str]) -> str:
    return f'{{"yLabel":{json.dumps(label)},"xLabel":{json.dumps(x_label)},"metrics":[{",".join(series)}]}}'


def _as_points(points: str, count: int) -> str:
    """The ``data`` text of ``count`` points from their flat text, without parsing a number: the flat
    text holds only numbers and commas, so its items drop into the points' template in order."""
    if count == 0:
        return "[]"
    return "[" + ",".join([_POINT] * count) % tuple(points[1:-1].split(",")) + "]"


def metrics_params(model_id: uuid.UUID | str, max_points: int = DEFAULT_MAX_POINTS) -> dict[str, object]:
    """:data:`METRICS_SQL`'s parameters."""
    return {"model_id": model_id, "max_points": max_points, "budget": POINT_BUDGET}


def _share(max_points: int, series: int) -> int:
    """The points each of ``series`` series may keep (the SQL's ``share`` says the same)."""
    return max(2, min(max_points, POINT_BUDGET // max(1, series)))


def _unpacked(packed: bytes) -> array[float]:
    """The float8s of ``array_send``'s form, flat ``[x0, y0, x1, y1, …]``: the 4-byte words of the
    elements (length, then the value's two big-endian halves) keep their halves, in C."""
    words = array("I", packed[_PACKED_HEADER:])  # "I" is 4 bytes wherever CPython runs on Lambda
    halves = array("I", bytes(len(words) // 3 * 8))
    halves[0::2], halves[1::2] = words[1::3], words[2::3]
    flat = array("d", halves.tobytes())
    if sys.byteorder == "little":
        flat.byteswap()
    return flat


def _downsampled(packed: bytes, share: int) -> str:
    """The packed points cut to ``share`` points with LTTB, as the ``data`` text."""
    flat = _unpacked(packed)
    xs, ys = largest_triangle_three_buckets(flat[0::2], flat[1::2], share)
    kept = [number for point in zip(xs, ys, strict=True) for number in point]
    return "[" + ",".join([_POINT] * len(xs)) % tuple(kept) + "]"  # str() of a finite number is JSON


@cache
def _charts_adapter() -> TypeAdapter[list[ModelMetrics]]:
    return TypeAdapter(list[ModelMetrics])


def get_metrics(
    model_id: uuid.UUID, session: Session, max_points: int = DEFAULT_MAX_POINTS
) -> list[ModelMetrics]:
    """One chart per (label, x_label), a series per trust (code, else name), points sorted by x, each
    series at most ``max_points`` long (downsampled, see the module); no rows gives ``[]``."""
    return _charts_adapter().validate_json(get_metrics_answer(model_id, session, max_points).body)


def largest_triangle_three_buckets(
    xs: Sequence[float], ys: Sequence[float], threshold: int
) -> tuple[list[float], list[float]]:
    """``threshold`` points of the series (``xs`` sorted) that keep its shape (Steinarsson's LTTB): the
    first and the last, and from each of ``threshold - 2`` equal buckets between them the point making
    the largest triangle with the point chosen before it and the average of the next bucket."""
    size = len(xs)
    if threshold >= size or threshold < 3:
        return (list(xs), list(ys)) if threshold >= size else ([xs[0], xs[-1]], [ys[0], ys[-1]])
    out_x, out_y = [xs[0]], [ys[0]]
    every = (size - 2) / (threshold - 2)
    chosen = 0
    for bucket in range(threshold - 2):
        start = int(bucket * every) + 1
        end = int((bucket + 1) * every) + 1
        next_end = min(int((bucket + 2) * every) + 1, size)
        if end >= next_end:  # the last bucket's "next" is the last point
            end, next_end = min(end, size - 1), size
        span = next_end - end
        cx = sum(xs[end:next_end]) / span
        cy = sum(ys[end:next_end]) / span
        ax, ay = xs[chosen], ys[chosen]
        # Twice the triangle's area, with the constant parts of the cross product taken out of the loop.
        u, v, w = cy - ay, ax - cx, cx * ay - ax * cy
        best, best_area = start, -1.0
        for index in range(start, end):
            area = abs(u * xs[index] + v * ys[index] + w)
            if area > best_area:
                best, best_area = index, area
        out_x.append(xs[best])
        out_y.append(ys[best])
        chosen = best
    out_x.append(xs[-1])
    out_y.append(ys[-1])
    return out_x, out_y
