"""resolve_trust_from_fl_client_name, validate_trust_ids and get_metrics (SPEC §3)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from flip_models.core.metrics import get_metrics
from flip_models.core.trusts import (
    resolve_trust_from_fl_client_name,
    resolve_trusts_from_fl_client_names,
    validate_trust_ids,
)
from tests.builders import Given


class TestResolveTrust:
    def test_resolves_through_the_slot_even_when_the_display_name_differs(
        self, session: Session, given: Given
    ) -> None:
        trust = given.trust(code="GSTT", name="Guy's and St Thomas'", slot="Trust_2")
        given.trust(name="Trust_2")  # a trust *named* like the slot must not be picked

        resolved = resolve_trust_from_fl_client_name("Trust_2", session)

        assert resolved is not None
        assert resolved.id == trust.id

    def test_the_display_name_alone_resolves_nothing(self, session: Session, given: Given) -> None:
        given.trust(name="Trust_9")

        assert resolve_trust_from_fl_client_name("Trust_9", session) is None

    def test_an_unassigned_or_unknown_slot_resolves_to_none(self, session: Session, given: Given) -> None:
        given.slot("Trust_4", None)

        assert resolve_trust_from_fl_client_name("Trust_4", session) is None
        assert resolve_trust_from_fl_client_name("Trust_404", session) is None

    def test_many_names_in_one_call(self, session: Session, given: Given) -> None:
        one = given.trust(code="A", slot="Trust_1")
        two = given.trust(code="B", slot="Trust_2")
        given.slot("Trust_3", None)

        resolved = resolve_trusts_from_fl_client_names(
            ["Trust_1", "Trust_2", "Trust_3", "nope", "Trust_1"], session
        )

        assert {name: trust.id for name, trust in resolved.items()} == {"Trust_1": one.id, "Trust_2": two.id}


class TestValidateTrustIds:
    def test_true_only_when_every_trust_is_associated(self, session: Session, given: Given) -> None:
        a, b, c = given.trust(), given.trust(), given.trust()
        model = given.model(trusts=[a, b])
        given.model(trusts=[c])

        assert validate_trust_ids(model.id, [a.id], session)
        assert validate_trust_ids(model.id, [a.id, b.id, a.id], session)
        assert not validate_trust_ids(model.id, [a.id, c.id], session)
        assert not validate_trust_ids(model.id, [uuid.uuid4()], session)


class TestGetMetrics:
    def test_no_rows_gives_an_empty_list(self, session: Session, given: Given) -> None:
        assert get_metrics(given.model().id, session) == []

    def test_charts_per_label_and_x_label_series_per_trust_points_sorted_by_x(
        self, session: Session, given: Given
    ) -> None:
        coded = given.trust(code="GSTT", name="Guy's")
        uncoded = given.trust(code=None, name="Kings College")
        model = given.model(trusts=[coded, uncoded])
        other = given.model(trusts=[coded])
        # inserted out of order on purpose
        for x, y in [(2.0, 0.2), (0.0, 0.9), (1.0, 0.5)]:
            given.metric(model, coded, label="LOSS_FUNCTION", x_label="Global Rounds", x_value=x, result=y)
        given.metric(model, uncoded, label="LOSS_FUNCTION", x_label="Global Rounds", x_value=0.0, result=0.7)
        given.metric(model, coded, label="TRAIN_LOSS", x_label="epoch", x_value=3.5, result=1.5)
        given.metric(model, coded, label="TRAIN_LOSS", x_label="Global Round", x_value=1.0, result=1.1)
        given.metric(other, coded, label="LOSS_FUNCTION", x_label="Global Rounds", x_value=9.0, result=9.9)

        charts = [chart.model_dump(by_alias=True) for chart in get_metrics(model.id, session)]

        assert charts == [
            {
                "yLabel": "LOSS_FUNCTION",
                "xLabel": "Global Rounds",
                "metrics": [
                    {
                        "seriesLabel": "GSTT",
                        "data": [
                            {"xValue": 0.0, "yValue": 0.9},
                            {"xValue": 1.0, "yValue": 0.5},
                            {"xValue": 2.0, "yValue": 0.2},
                        ],
                        "totalPoints": 3,
                    },
                    {
                        "seriesLabel": "Kings College",
                        "data": [{"xValue": 0.0, "yValue": 0.7}],
                        "totalPoints": 1,
                    },
                ],
            },
            {
                "yLabel": "TRAIN_LOSS",
                "xLabel": "Global Round",
                "metrics": [
                    {"seriesLabel": "GSTT", "data": [{"xValue": 1.0, "yValue": 1.1}], "totalPoints": 1}
                ],
            },
            {
                "yLabel": "TRAIN_LOSS",
                "xLabel": "epoch",
                "metrics": [
                    {"seriesLabel": "GSTT", "data": [{"xValue": 3.5, "yValue": 1.5}], "totalPoints": 1}
                ],
            },
        ]

    def test_is_one_sql_query(self, session: Session, given: Given) -> None:
        trust = given.trust(code="T")
        model = given.model(trusts=[trust])
        for x in range(50):
            given.metric(model, trust, label="L", x_value=float(x), result=float(x))
        statements: list[str] = []
        from sqlalchemy import event

        connection = session.connection()

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(connection, "before_cursor_execute", record)
        try:
            charts = get_metrics(model.id, session)
        finally:
            event.remove(connection, "before_cursor_execute", record)

        assert len(statements) == 1
        assert [p.x_value for p in charts[0].metrics[0].data] == [float(x) for x in range(50)]

    def test_an_empty_code_falls_back_to_the_name(self, session: Session, given: Given) -> None:
        trust = given.trust(code="", name="Named Trust")
        model = given.model(trusts=[trust])
        given.metric(model, trust, label="L", x_value=1, result=2)
        session.execute(text("select 1"))

        assert get_metrics(model.id, session)[0].metrics[0].series_label == "Named Trust"
