"""The FL consumers' one-statement attribution agrees with the SPEC §3 operations it stands in for.

``resolve_trust_from_fl_client_name`` and ``validate_trust_ids`` are the rules; the batch statement
(:mod:`flip_models.fl.attribution`) applies them in SQL for a whole batch at once. Every case a message
can meet is put through both, and the metric rows it writes carry the resolved trust.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.trusts import resolve_trust_from_fl_client_name, validate_trust_ids
from flip_models.fl.attribution import LOG_ROWS, METRIC_ROWS, Attribution, BatchInsert
from flip_models.store.tables import FLLogs, FLMetricMessage, FLMetrics
from tests.builders import Given


def _metric(model_id: uuid.UUID, client: str | None, key: str) -> dict[str, object]:
    return {
        "model_id": str(model_id),
        "fl_client_name": client,
        "global_round": 1,
        "label": "LOSS",
        "result": 0.5,
        "x_label": "Global Round",
        "x_value": 1.0,
        "timestamp": datetime.now(UTC).isoformat(),
        "message_id": key,
    }


def test_the_statement_attributes_every_case_as_the_service_rules_do(session: Session, given: Given) -> None:
    inside = given.trust(slot="Trust_1", name="Trust_2")  # display name of another slot: never used
    outside = given.trust(slot="Trust_2")
    given.slot("Trust_3", None)  # unassigned
    model = given.model(trusts=[inside])
    cases = [
        (model.id, "Trust_1"),  # the model's trust
        (model.id, "Trust_2"),  # a trust, but not the model's
        (model.id, "Trust_3"),  # unassigned slot
        (model.id, "Trust_404"),  # no such slot
        (uuid.uuid4(), "Trust_1"),  # no such model
    ]
    rows = [_metric(model_id, client, f"case-{n}") for n, (model_id, client) in enumerate(cases)]

    found = METRIC_ROWS.run(rows, session.connection())

    for (model_id, client), attribution in zip(cases, found, strict=True):
        trust = resolve_trust_from_fl_client_name(client, session)
        expected_in_model = trust is not None and validate_trust_ids(model_id, [trust.id], session)
        model_found = model_id == model.id
        assert attribution == Attribution(
            model_found=model_found,
            client_resolved=trust is not None,
            trust_in_model=expected_in_model,
            inserted=model_found and expected_in_model,
        ), (model_id, client)
    written = session.execute(
        select(FLMetricMessage.message_id, FLMetrics.trust).join(
            FLMetrics, FLMetrics.id == FLMetricMessage.row_id
        )
    ).all()
    assert written == [("case-0", inside.id)]
    assert outside.id not in {trust for _, trust in written}


def test_a_repeated_key_is_found_again_but_not_inserted_again(session: Session, given: Given) -> None:
    trust = given.trust(slot="Trust_1")
    model = given.model(trusts=[trust])
    row = _metric(model.id, "Trust_1", "once") | {"message_digest": "digest of the first body"}

    first = METRIC_ROWS.run([row], session.connection())
    second = METRIC_ROWS.run([row | {"message_digest": "another"}], session.connection())

    assert [first[0].inserted, second[0].inserted] == [True, False]
    assert second[0].trust_in_model  # attributable, not inserted: the caller reads the key's digest
    assert session.scalars(select(FLMetricMessage.message_id)).all() == ["once"]
    assert session.scalar(select(func.count()).select_from(FLMetrics)) == 1


def test_a_hub_log_needs_only_its_model(session: Session, given: Given) -> None:
    model = given.model()
    row = {
        "model_id": str(model.id),
        "fl_client_name": None,
        "log_date": datetime.now(UTC).isoformat(),
        "success": True,
        "log": "hub line",
        "event_type": None,
        "global_round": None,
        "details": None,
        "message_id": "hub-1",
    }

    [found] = LOG_ROWS.run([row], session.connection())

    assert found == Attribution(model_found=True, client_resolved=False, trust_in_model=False, inserted=True)
    [(trust, details)] = session.execute(select(FLLogs.trust, FLLogs.details)).all()
    assert (trust, details) == (None, None)  # JSON null details is SQL NULL, as the column declares


@pytest.mark.parametrize("rows", [LOG_ROWS, METRIC_ROWS], ids=lambda rows: rows.table.name)
def test_the_batch_statement_reads_no_fl_rows_whatever_plan_postgresql_keeps(
    rows: BatchInsert, session: Session
) -> None:
    """Found by the ingestion bench: the statement joined its table back to find a key's earlier row,
    and the plan PostgreSQL kept for the prepared statement from when the table was empty scanned it
    whole, so each batch cost more as the table grew (4 ms a batch at 12,000 rows, three times the
    first). The happy path must not read the table at all: only the insert touches it (through the
    unique index that arbitrates conflicts)."""
    connection = session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(
        "PREPARE batch_statement(text) AS " + rows.sql.replace("CAST(:batch AS json)", "CAST($1 AS json)")
    )
    try:
        plan = "\n".join(
            line for (line,) in connection.exec_driver_sql("EXPLAIN EXECUTE batch_statement('[]')")
        )
    finally:
        connection.exec_driver_sql("DEALLOCATE batch_statement")

    assert f"Insert on {rows.table.name}" in plan
    scans = [
        line.strip() for line in plan.splitlines() if "Scan" in line and f" on {rows.table.name}" in line
    ]
    assert scans == []
