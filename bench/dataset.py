"""Benchmark databases and data, generated in SQL (``generate_series``) so set-up stays fast."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text

from flip_local.databases import migrated_database

ADMIN_URL = os.environ.get("FLIP_BENCH_PG", "postgresql+pg8000://postgres@127.0.0.1:5432/postgres")
LABELS = ("LOSS_FUNCTION", "ACCURACY", "DICE", "AUC")


@contextmanager
def bench_database() -> Iterator[str]:
    """A migrated database of the run's own; dropped afterwards."""
    with migrated_database(ADMIN_URL, "flip_bench") as url:
        yield url


@dataclass(frozen=True)
class BenchModel:
    project_id: uuid.UUID
    model_id: uuid.UUID
    owner_id: uuid.UUID
    trust_ids: tuple[uuid.UUID, ...]
    slots: tuple[str, ...]


def create_model(engine: Engine, trusts: int = 5, slot_offset: int = 0) -> BenchModel:
    """An approved project owned by ``owner_id`` with a RUNNING model across ``trusts`` trusts."""
    owner, project, model = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    trust_ids = tuple(uuid.uuid4() for _ in range(trusts))
    slots = tuple(f"Trust_{slot_offset + i + 1}" for i in range(trusts))
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (id, name, owner_id, status) VALUES (:p, 'bench', :o, 'APPROVED')"),
            {"p": project, "o": owner},
        )
        connection.execute(
            text(
                "INSERT INTO model (id, name, status, project_id, owner_id) VALUES (:m, 'bench', 'RUNNING', :p, :o)"
            ),
            {"m": model, "p": project, "o": owner},
        )
        for index, (trust_id, slot) in enumerate(zip(trust_ids, slots, strict=True)):
            connection.execute(
                text("INSERT INTO trust (id, name, code) VALUES (:t, :n, :c)"),
                {"t": trust_id, "n": f"Bench trust {slot}", "c": f"BT{slot_offset + index + 1}"},
            )
            connection.execute(
                text(
                    "INSERT INTO fl_kit_slot (slot_name, slot_number, assigned_to_trust_id) VALUES (:s, :n, :t)"
                ),
                {"s": slot, "n": slot_offset + index + 1, "t": trust_id},
            )
            connection.execute(
                text("INSERT INTO model_trust_intersect (model_id, trust_id) VALUES (:m, :t)"),
                {"m": model, "t": trust_id},
            )
            connection.execute(
                text(
                    "INSERT INTO project_trust_intersect (project_id, trust_id, approved) VALUES (:p, :t, true)"
                ),
                {"p": project, "t": trust_id},
            )
    return BenchModel(project, model, owner, trust_ids, slots)


def fill_metrics(engine: Engine, model: BenchModel, rows: int) -> None:
    """``rows`` metric rows: every trust × every label × as many rounds as it takes."""
    per_round = len(model.trust_ids) * len(LABELS)
    rounds = max(1, rows // per_round)
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO fl_metrics (model_id, trust, fl_client_name, global_round, label, result,
                                        x_label, x_value, message_id)
                SELECT :m, t.id, t.slot, r, l.label, random(), 'Global Rounds', r,
                       'bench-metric-' || :m || '-' || t.slot || '-' || l.label || '-' || r
                FROM generate_series(0, :rounds - 1) AS r,
                     unnest(CAST(:labels AS text[])) AS l(label),
                     unnest(CAST(:trusts AS uuid[]), CAST(:slots AS text[])) AS t(id, slot)
                """
            ),
            {
                "m": model.model_id,
                "rounds": rounds,
                "labels": list(LABELS),
                "trusts": [str(t) for t in model.trust_ids],
                "slots": list(model.slots),
            },
        )
        connection.execute(text("ANALYZE fl_metrics"))


def fill_logs(engine: Engine, model: BenchModel, rows: int) -> None:
    """``rows`` log rows, one second apart: typed round events from the trusts and hub text lines."""
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO fl_logs (model_id, log_date, success, trust, fl_client_name, log, event_type,
                                     global_round, details, message_id)
                SELECT :m, now() - make_interval(secs => :rows - i), true,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE (CAST(:trusts AS uuid[]))[1 + mod(i, :n)] END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE (CAST(:slots AS text[]))[1 + mod(i, :n)] END,
                       CASE WHEN mod(i, 4) = 0 THEN 'Hub line ' || i ELSE NULL END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE 'CLIENT_RESULT_RECEIVED' END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE 1 + i / 20 END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE jsonb_build_object('size_bytes', 1000000 + i) END,
                       'bench-log-' || :m || '-' || i
                FROM generate_series(1, :rows) AS i
                """
            ),
            {
                "m": model.model_id,
                "rows": rows,
                "n": len(model.trust_ids),
                "trusts": [str(t) for t in model.trust_ids],
                "slots": list(model.slots),
            },
        )
        connection.execute(text("ANALYZE fl_logs"))


def add_pending_models(
    engine: Engine, model: BenchModel, count: int, status: str = "PENDING"
) -> list[uuid.UUID]:
    """``count`` more models (``status``, PENDING by default) in the project of ``model``: targets for
    edits, deletes and stops."""
    ids = [uuid.uuid4() for _ in range(count)]
    if ids:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO model (id, name, status, project_id, owner_id)"
                    " SELECT id, 'bench spare', :s, :p, :o FROM unnest(CAST(:ids AS uuid[])) AS id"
                ),
                {"s": status, "p": model.project_id, "o": model.owner_id, "ids": [str(i) for i in ids]},
            )
    return ids


def add_project_with_model(engine: Engine, model: BenchModel) -> uuid.UUID:
    """A project of the same owner holding one PENDING model; returns the project id."""
    project = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, owner_id, status) VALUES (:p, 'bench spare', :o, 'APPROVED')"
            ),
            {"p": project, "o": model.owner_id},
        )
        connection.execute(
            text(
                "INSERT INTO model (id, name, status, project_id, owner_id)"
                " VALUES (gen_random_uuid(), 'bench spare', 'PENDING', :p, :o)"
            ),
            {"p": project, "o": model.owner_id},
        )
    return project
