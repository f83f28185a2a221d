"""The load test small (``flip-models bench --load --quick``), and why behind PgBouncer the FL batch
statement must go unnamed: both against a throwaway PostgreSQL cluster with a real PgBouncer (Debian's,
transaction mode) in front. Outcomes are asserted, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, exc
from sqlalchemy.orm import Session

from flip_local.cluster import pgbouncer, role_database, throwaway_cluster
from flip_models.fl.attribution import METRIC_ROWS
from flip_models.store import db
from flip_models.store.settings import Settings
from tests.builders import Given

# Never import ``bench`` here: its package sets Powertools' log level for the whole process, which
# the handler tests' log assertions would then miss. The load test runs in a subprocess.
ROLE = "flip_smoke"


def test_quick_load_reconciles_every_message_in_both_modes(tmp_path: Path) -> None:
    out = tmp_path / "results.json"

    run = subprocess.run(
        [sys.executable, "-m", "flip_local.cli", "bench", "--load", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "FLIP_BENCH_SCHEMA": os.environ.get("FLIP_TEST_SCHEMA", "service")},
        timeout=240,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(out.read_text())["load"]
    plan = figures["plan"]
    assert figures["max_connections"] == plan["max_connections"] == 100
    for mode in ("direct", "pgbouncer"):
        result = figures[mode]
        assert result["containers_reported"] == result["containers"] == plan["containers"] > 1
        assert result["containers_killed"] == 0
        assert result["requests"] > 0
        assert result["fl_batches"] > 0
        reconciled = result["reconciliation"]
        assert reconciled["sent"] > 0
        assert (
            reconciled["lost"],
            reconciled["duplicates"],
            reconciled["rows_without_a_message"],
            reconciled["keys_without_a_row"],
        ) == (0, 0, 0, 0)
        assert (
            reconciled["acked_applied"] + reconciled["dead_lettered"] + reconciled["rejected"]
            == (reconciled["sent"])
        )
        assert reconciled["rejected"] == 0  # every message is valid: only the database may refuse one
        # A refusal is a 503 or a retried FL message, never another error.
        assert result["errors"]["api_other"] == {}
        assert result["errors"]["handler_exceptions"] == 0
        assert result["server_connections"]["peak"] >= 1
    pooled = figures["pgbouncer"]
    assert pooled["errors"]["total"] == 0
    assert pooled["reconciliation"]["dead_lettered"] == 0
    assert (
        pooled["server_connections"]["peak"] <= pooled["pool_size"] == plan["pool_size"] < plan["containers"]
    )
    assert pooled["met"] is True
    assert figures["direct"]["met"] is True


@pytest.fixture(scope="module")
def bouncer() -> Iterator[tuple[str, str, uuid.UUID]]:
    """A throwaway cluster, migrated, with a model of two trusts (``Trust_1``, ``Trust_2``); PgBouncer
    with ONE server connection in front. Yields the role's URL through PgBouncer, its URL direct,
    and the model's id."""
    with throwaway_cluster() as cluster:
        direct = role_database(cluster, ROLE, "flip_smoke", {"statement_timeout": "8s"})
        engine = create_engine(direct)
        try:
            with Session(engine) as session:
                given = Given(session)
                model = given.model(trusts=[given.trust(slot="Trust_1"), given.trust(slot="Trust_2")])
                model_id = model.id
        finally:
            engine.dispose()
        ignored = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
        with pgbouncer(cluster, pool_size=1, users=[ROLE], ignore_startup_parameters=ignored) as port:
            yield cluster.url(ROLE, "flip_smoke", port), direct, model_id


def _rows(model_id: uuid.UUID, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "model_id": str(model_id),
            "fl_client_name": slot,
            "global_round": 1,
            "label": "LOSS",
            "result": 0.5,
            "x_label": "Global Round",
            "x_value": 1.0,
            "timestamp": datetime.now(UTC).isoformat(),
            "message_id": f"{tag}-{slot}",
            "message_digest": None,
        }
        for slot in ("Trust_1", "Trust_2")
    ]


def _batch_in_two_containers(url: str, model_id: uuid.UUID, behind_pooler: bool) -> list[list[bool]]:
    """Two containers (an engine each) behind the same PgBouncer server connection, each running
    the metric batch statement twice in a transaction of its own, turn by turn; ``inserted`` flags."""
    settings = Settings(database_url=url, db_behind_pooler=behind_pooler)
    engines = [db.build_engine(settings), db.build_engine(settings)]
    inserted: list[list[bool]] = []
    try:
        for turn in range(2):
            for number, engine in enumerate(engines):
                with Session(engine) as session, session.begin():
                    tag = f"{behind_pooler}-{uuid.uuid4().hex[:6]}-{turn}-{number}"
                    found = METRIC_ROWS.run(_rows(model_id, tag), session.connection())
                    inserted.append([attribution.inserted for attribution in found])
    finally:
        for engine in engines:
            engine.dispose()
    return inserted


def test_behind_pgbouncer_the_named_statement_breaks_and_the_unnamed_one_works(
    bouncer: tuple[str, str, uuid.UUID],
) -> None:
    url, _, model = bouncer

    # Unnamed (DB_BEHIND_POOLER=true): every batch of both containers is attributed and inserted.
    assert _batch_in_two_containers(url, model, behind_pooler=True) == [[True, True]] * 4

    # Named: the second container prepares its statement under pg8000's first name on the server
    # connection where the first container's statement already has it.
    with pytest.raises(exc.DBAPIError) as raised:
        _batch_in_two_containers(url, model, behind_pooler=False)
    assert db.sqlstate(raised.value) == "42P05"  # duplicate_prepared_statement
    assert "already exists" in str(raised.value.orig)


def test_direct_the_named_statement_serves_two_containers(
    bouncer: tuple[str, str, uuid.UUID],
) -> None:
    """The same two containers straight to PostgreSQL (a server connection each) with the named
    statement: what breaks behind the pooler is the pooler's sharing, not the statement."""
    _, direct, model = bouncer

    assert _batch_in_two_containers(direct, model, behind_pooler=False) == [[True, True]] * 4
