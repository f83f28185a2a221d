"""Every API response fits Lambda's response limit as Lambda measures it (SPEC §4): the whole response
object as JSON, headers and escaping included, at most 6,291,456 bytes, and its body under 5,000,000,
whatever the data. Found from outside (issue 22): the metrics' point budget counted points, not
bytes; API Gateway answered 502. Metrics now leave their last series out (and say so in headers).

Sizes are measured on the handler's return value (:attr:`ApiResponse.lambda_size`).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from flip_models.core.metrics import get_metrics_answer
from tests.api_events import BODY_LIMIT, LAMBDA_RESPONSE_LIMIT, ApiResponse
from tests.builders import Given
from tests.handlers.api_world import World, build_world
from tests.handlers.test_api_metrics_downsampling import metrics

#: 64 characters, as an FL message's label may be, each escaping to many bytes: plain, quotes (2
#: bytes in the body, 4 in Lambda's response), an astral character (12 bytes in the body's JSON).
LABEL_UNITS = {"ascii": "x", "quotes": '"', "emoji": "😀"}


def assert_within_lambdas_limit(response: ApiResponse) -> None:
    assert response.status == 200, (response.status, response.raw_body and response.raw_body[:500])
    assert response.lambda_size <= LAMBDA_RESPONSE_LIMIT, response.lambda_size
    assert response.body_size < BODY_LIMIT, response.body_size


def fill_one_point_series(
    given: Given, world: World, series: int, unit: str, *, label_length: int = 64
) -> None:
    """``series`` one-point series of one trust, each its own chart: label and x label ``label_length``
    characters of ``unit`` with the series' number at the end, the widest number float8 writes."""
    given.session.execute(text("SET LOCAL statement_timeout = 0"))
    given.session.execute(
        text(
            """
            INSERT INTO fl_metrics
                (id, model_id, trust, fl_client_name, global_round, label, result, x_label, x_value)
            SELECT gen_random_uuid(), :model, :trust, 'Trust_x', 0, l.label, -1.7976931348623157e308,
                   l.label, -1.7976931348623157e308
            FROM generate_series(1, :series) AS n,
                 LATERAL (SELECT repeat(:unit, :length - length(n::text)) || n AS label) AS l
            """
        ),
        {
            "model": world.model.id,
            "trust": world.trusts[0].id,
            "series": series,
            "unit": unit,
            "length": label_length,
        },
    )
    given.session.commit()


@pytest.mark.parametrize("unit", LABEL_UNITS.values(), ids=LABEL_UNITS.keys())
def test_24000_one_point_series_with_64_character_labels_fit_and_say_what_is_left_out(
    unit: str, given: Given
) -> None:
    """Before: 7.3 MB as Lambda counts it with plain labels (15.9 MB with quotes, 44 MB with emoji)
    for 24,000 points, well within the 50,000-point budget."""
    world = build_world(given)
    fill_one_point_series(given, world, 24_000, unit)

    response = metrics(world.viewer, world.model.id)

    assert_within_lambdas_limit(response)
    sent = [series for chart in response.body for series in chart["metrics"]]
    omitted = int(response.headers["X-Series-Omitted"])
    assert omitted > 0
    assert len(sent) + omitted == 24_000
    assert int(response.headers["X-Points-Omitted"]) == omitted  # one point each
    # The series that come first (in the database's order of labels) are sent, whole.
    first = given.session.execute(
        text("SELECT label FROM fl_metrics WHERE model_id = :m ORDER BY label LIMIT :n"),
        {"m": world.model.id, "n": len(sent)},
    ).scalars()
    assert [chart["yLabel"] for chart in response.body] == list(first)
    assert all(series["totalPoints"] == len(series["data"]) == 1 for series in sent)


def test_an_answer_that_fits_says_nothing_is_left_out_and_browsers_may_read_it(given: Given) -> None:
    world = build_world(given)
    given.metric(world.model, world.trusts[0], label="LOSS", x_value=0.0, result=1.0)

    response = metrics(world.viewer, world.model.id)

    assert response.status == 200
    assert (response.headers["X-Series-Omitted"], response.headers["X-Points-Omitted"]) == ("0", "0")
    exposed = {name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Series-Omitted", "X-Points-Omitted"} <= exposed


def test_the_points_left_out_are_those_the_series_left_out_store(given: Given) -> None:
    """A byte budget of a few series: what is left out is counted in series and stored points."""
    world = build_world(given)
    for trust in world.trusts:
        for x in range(3):
            given.metric(world.model, trust, label="LOSS", x_value=float(x), result=0.5)
    given.metric(world.model, world.trusts[0], label="ZZZ", x_value=0.0, result=0.5)

    whole = get_metrics_answer(world.model.id, given.session)
    cut = get_metrics_answer(world.model.id, given.session, max_bytes=len(whole.body) - 1)

    assert (whole.series_omitted, whole.points_omitted) == (0, 0)
    assert (cut.series_omitted, cut.points_omitted) == (1, 1)
    assert [chart["yLabel"] for chart in json.loads(cut.body)] == ["LOSS"]
    nothing = get_metrics_answer(world.model.id, given.session, max_bytes=10)
    assert (nothing.body, nothing.series_omitted, nothing.points_omitted) == ("[]", 3, 7)


def test_a_series_whose_label_alone_passes_the_budget_is_left_out(given: Given) -> None:
    """FLIP's columns are unbounded ``varchar``: another writer may store a label of megabytes."""
    world = build_world(given)
    given.metric(world.model, world.trusts[0], label='"' * 2_000_000, x_value=0.0, result=1.0)
    given.metric(world.model, world.trusts[0], label="LOSS", x_value=0.0, result=1.0)

    response = metrics(world.viewer, world.model.id)

    assert_within_lambdas_limit(response)
    # Left out, with every series after it (where "LOSS" comes depends on the database's collation).
    sent = [chart["yLabel"] for chart in response.body]
    assert sent in ([], ["LOSS"])
    omitted = int(response.headers["X-Series-Omitted"])
    assert omitted == 2 - len(sent)
    assert response.headers["X-Points-Omitted"] == str(omitted)
