"""GET /model/{id}/metrics stays small whatever the data (SPEC §4): ``maxPoints`` per series, downsampled
with largest-triangle-three-buckets keeping the first and last points, ``totalPoints`` on each series,
and the whole answer bounded (Lambda answers at most 6 MB; before, 200k points were a 10 MB body)."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from flip_models.core.metrics import POINT_BUDGET, largest_triangle_three_buckets
from tests.api_events import ApiResponse, Person
from tests.builders import Given
from tests.handlers.api_world import World, assert_error, build_world


def metrics(caller: Person, model_id: uuid.UUID, **query: str) -> ApiResponse:
    return caller.call(
        "get_model_metrics",
        "GET",
        "/model/{modelId}/metrics",
        {"modelId": str(model_id)},
        query=query or None,
    )


def fill(session: Session, world: World, points: int, *, labels: int = 1, seed: int = 7) -> None:
    """``points`` per trust and label: a noisy falling loss over x = 0, 1, 2, … (generated in SQL).
    Set-up, not the service: free of the session's statement timeout, on a busy machine too."""
    session.execute(text("SET LOCAL statement_timeout = 0"))
    session.execute(
        text(
            """
            INSERT INTO fl_metrics
                (id, model_id, trust, fl_client_name, global_round, label, result, x_label, x_value)
            SELECT gen_random_uuid(), :model, t.id, 'Trust_x', n, 'LOSS_' || l,
                   1.0 / (n + 1) + 0.01 * sin(n * :seed), 'step', n
            FROM generate_series(0, :points - 1) AS n, generate_series(1, :labels) AS l,
                 unnest(CAST(:trusts AS uuid[])) AS t(id)
            """
        ),
        {
            "model": world.model.id,
            "points": points,
            "labels": labels,
            "seed": seed,
            "trusts": [str(trust.id) for trust in world.trusts],
        },
    )
    session.commit()


def reference_lttb(points: Sequence[tuple[float, float]], threshold: int) -> list[tuple[float, float]]:
    """Steinarsson's largest-triangle-three-buckets, as published (the reference, written plainly)."""
    every = (len(points) - 2) / (threshold - 2)
    sampled, a = [points[0]], 0
    for i in range(threshold - 2):
        avg_start, avg_end = int((i + 1) * every) + 1, min(int((i + 2) * every) + 1, len(points))
        avg_x = sum(p[0] for p in points[avg_start:avg_end]) / (avg_end - avg_start)
        avg_y = sum(p[1] for p in points[avg_start:avg_end]) / (avg_end - avg_start)
        range_start, range_end = int(i * every) + 1, int((i + 1) * every) + 1
        ax, ay = points[a]
        best, best_area = range_start, -1.0
        for j in range(range_start, range_end):
            area = abs((ax - avg_x) * (points[j][1] - ay) - (ax - points[j][0]) * (avg_y - ay)) * 0.5
            if area > best_area:
                best, best_area = j, area
        sampled.append(points[best])
        a = best
    sampled.append(points[-1])
    return sampled


@pytest.mark.parametrize(("size", "threshold"), [(10, 3), (101, 10), (1000, 97), (5000, 1000), (1234, 1233)])
def test_the_downsampling_is_lttb(size: int, threshold: int) -> None:
    generator = random.Random(size)
    xs = sorted(generator.uniform(0, 100) for _ in range(size))
    ys = [generator.gauss(0, 1) for _ in range(size)]

    got_x, got_y = largest_triangle_three_buckets(xs, ys, threshold)

    assert list(zip(got_x, got_y, strict=True)) == reference_lttb(list(zip(xs, ys, strict=True)), threshold)


def test_a_long_series_is_downsampled_to_max_points_keeping_its_ends_and_its_shape(
    given: Given, session: Session
) -> None:
    world = build_world(given)
    fill(session, world, 5000)

    response = metrics(world.viewer, world.model.id)

    assert response.status == 200
    [chart] = response.body
    for series in chart["metrics"]:
        data = series["data"]
        assert series["totalPoints"] == 5000
        assert len(data) == 1000  # the default maxPoints
        assert (data[0]["xValue"], data[-1]["xValue"]) == (0, 4999)
        xs = [point["xValue"] for point in data]
        assert xs == sorted(xs)
        assert max(point["yValue"] for point in data) == pytest.approx(1.0, abs=0.011)  # the peak kept


def test_max_points_is_the_callers_and_short_series_are_whole(given: Given, session: Session) -> None:
    world = build_world(given)
    fill(session, world, 300)

    small = metrics(world.viewer, world.model.id, maxPoints="50").body
    whole = metrics(world.viewer, world.model.id, maxPoints="300").body

    assert {len(series["data"]) for series in small[0]["metrics"]} == {50}
    assert {len(series["data"]) for series in whole[0]["metrics"]} == {300}
    assert {series["totalPoints"] for chart in (small, whole) for series in chart[0]["metrics"]} == {300}


@pytest.mark.parametrize("max_points", ["1", "0", "10001", "all"])
def test_max_points_out_of_range_is_422(max_points: str, given: Given) -> None:
    world = build_world(given)

    assert_error(metrics(world.viewer, world.model.id, maxPoints=max_points), 422, field="maxPoints")


def test_many_long_series_share_the_point_budget(given: Given, session: Session) -> None:
    """200 series of 600 points (120k rows): each may not have all 600 (within its 1,000), or the
    answer would be over 5 MB; together they keep at most the budget."""
    world = build_world(given)
    fill(session, world, 600, labels=100)

    response = metrics(world.viewer, world.model.id)

    assert response.status == 200
    series = [s for chart in response.body for s in chart["metrics"]]
    assert len(series) == 200
    assert sum(len(s["data"]) for s in series) <= POINT_BUDGET
    assert all(s["totalPoints"] == 600 for s in series)
    assert {len(s["data"]) for s in series} == {POINT_BUDGET // 200}
    assert len(response.raw_body or "") < 5 * 1024 * 1024


def test_200k_points_answer_well_under_lambdas_limit(given: Given, session: Session) -> None:
    """Found from outside: a model with 200k points answered a 10 MB body, an error in AWS."""
    world = build_world(given)
    fill(session, world, 100_000)  # 2 trusts: 200k points

    response = metrics(world.viewer, world.model.id)

    assert response.status == 200
    assert len(response.raw_body or "") < 1024 * 1024
    assert [s["totalPoints"] for s in response.body[0]["metrics"]] == [100_000, 100_000]


def test_points_a_chart_cannot_draw_are_left_out(given: Given, session: Session) -> None:
    """Another writer of the table may store NaN or infinity: JSON has neither; the rest is drawn."""
    world = build_world(given)
    fill(session, world, 3)
    session.execute(
        text("UPDATE fl_metrics SET result = 'NaN' WHERE model_id = :m AND x_value = 1"),
        {"m": world.model.id},
    )
    session.commit()

    response = metrics(world.viewer, world.model.id)

    assert response.status == 200
    for series in response.body[0]["metrics"]:
        assert [point["xValue"] for point in series["data"]] == [0, 2]
        assert all(math.isfinite(point["yValue"]) for point in series["data"])


@pytest.mark.parametrize("max_points", ["1000", "5"])
def test_every_number_is_sent_exactly_as_stored(max_points: str, given: Given, session: Session) -> None:
    """PostgreSQL writes the points' text (float8's shortest exact form) and a downsampled series is
    parsed and written again: either way a double arrives as the same double."""
    world = build_world(given)
    values = [0.1 + 0.2, 1 / 3, 1e-05, 1e20, -0.0, 5e-324, 1.7976931348623157e308, 12.0]
    trust = world.trusts[0]
    for index, value in enumerate(values):
        given.metric(world.model, trust, label="EXACT", x_value=float(index), result=value)
    session.commit()

    raw = metrics(world.viewer, world.model.id, maxPoints=max_points).raw_body or ""
    [chart] = json.loads(raw, parse_int=float)  # as a browser reads them: every number a double
    [series] = chart["metrics"]

    sent = {point["xValue"]: point["yValue"] for point in series["data"]}
    assert len(sent) == min(len(values), int(max_points))
    assert all(
        sent[x] == values[int(x)] and math.copysign(1, sent[x]) == math.copysign(1, values[int(x)])
        for x in sent
    )


@pytest.mark.parametrize("max_points", [2, 3, 10])
def test_the_answer_is_the_lttb_of_the_rows_in_their_order(
    max_points: int, given: Given, session: Session
) -> None:
    """Long series come out of PostgreSQL in binary and short ones as its text: either way the
    answer is exactly LTTB of the stored rows in the query's order (x, then time, then id), on
    series of every length around ``maxPoints``, with repeated x values and tied y values."""
    world = build_world(given)
    generator = random.Random(max_points)
    sizes = [1, 2, 3, max_points - 1, max_points, max_points + 1, 57, 500]
    for index, size in enumerate(sizes):
        xs = [float(generator.randrange(size)) for _ in range(size)]  # repeats
        ys = [generator.choice([-1.5, 0.0, 0.1, 2.0, generator.gauss(0, 1)]) for _ in range(size)]  # ties
        session.execute(
            text(
                """
                INSERT INTO fl_metrics (id, model_id, trust, fl_client_name, global_round, label, result,
                                        x_label, x_value)
                SELECT gen_random_uuid(), :model, :trust, 'Trust_x', 0, :label, y, 'step', x
                FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS p(x, y)
                """
            ),
            {
                "model": world.model.id,
                "trust": world.trusts[0].id,
                "label": f"S{index:02}",
                "xs": xs,
                "ys": ys,
            },
        )
    session.commit()

    answer = metrics(world.viewer, world.model.id, maxPoints=str(max_points)).body

    for index, chart in enumerate(answer):
        stored = session.execute(
            text(
                "SELECT x_value, result FROM fl_metrics WHERE model_id = :model AND label = :label "
                "ORDER BY x_value, timestamp, id"
            ),
            {"model": world.model.id, "label": f"S{index:02}"},
        ).all()
        xs, ys = [row[0] for row in stored], [row[1] for row in stored]
        want = largest_triangle_three_buckets(xs, ys, max_points) if len(xs) > max_points else (xs, ys)
        [series] = chart["metrics"]
        assert chart["yLabel"] == f"S{index:02}"
        assert series["totalPoints"] == sizes[index]
        assert [(p["xValue"], p["yValue"]) for p in series["data"]] == list(zip(*want, strict=True))
