"""Benchmark databases and data, generated in SQL (``generate_series``) so set-up stays fast.

The tables are FLIP's (SPEC §2): no server defaults on ids or timestamps, so every raw insert here
sets ``id`` (``gen_random_uuid()``) and each NOT NULL timestamp (``now()``, stored naive in UTC: the
bench's engines run their sessions with ``TimeZone=UTC``, as the service's do); the few rows built
one by one go through Core ``insert(Table)``, which applies the tables' Python defaults.

Two kinds of database, as the service meets them (``FLIP_BENCH_SCHEMA``, or ``flip_schema``): an
empty one the service's migrations build (``service``, the default), or FLIP's database, built from
FLIP's DDL at its head and then migrated (``flip``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text

from flip_local.databases import FLIP_HEAD_SQL, migrated_database
from flip_models.enums import ModelStatus, ProjectStatus, TrustApprovalStatus, TrustIntersectStatus
from flip_models.store.tables import (
    FLKitSlot,
    Model,
    ModelTrustIntersect,
    Project,
    ProjectTrustIntersect,
    Trust,
)

ADMIN_URL = os.environ.get("FLIP_BENCH_PG", "postgresql+pg8000://postgres@127.0.0.1:5432/postgres")
LABELS = ("LOSS_FUNCTION", "ACCURACY", "DICE", "AUC")
#: The kind of database the bench builds: ``service`` (default) or ``flip`` (module docstring).
SCHEMA_VARIABLE = "FLIP_BENCH_SCHEMA"
SCHEMAS = ("service", "flip")


def use_flip_schema(flip_schema: bool | None = None) -> bool:
    """Whether the bench builds FLIP's database: ``flip_schema`` when given, else ``FLIP_BENCH_SCHEMA``."""
    if flip_schema is not None:
        return flip_schema
    schema = os.environ.get(SCHEMA_VARIABLE, "service")
    if schema not in SCHEMAS:
        raise RuntimeError(f"{SCHEMA_VARIABLE} must be 'service' or 'flip', not {schema!r}")
    return schema == "flip"


def schema_name(flip_schema: bool) -> str:
    return "flip" if flip_schema else "service"


def flip_schema_sql(flip_schema: bool) -> Path | None:
    """FLIP's DDL at its head when the bench builds FLIP's database, else None."""
    if not flip_schema:
        return None
    if not FLIP_HEAD_SQL.is_file():
        raise RuntimeError(f"FLIP's schema is not at {FLIP_HEAD_SQL}")
    return FLIP_HEAD_SQL


@contextmanager
def bench_database(flip_schema: bool | None = None) -> Iterator[str]:
    """A migrated database of the run's own (FLIP's, built from its DDL first, with ``flip_schema``);
    dropped afterwards."""
    flip = use_flip_schema(flip_schema)
    with migrated_database(ADMIN_URL, f"flip_bench_{schema_name(flip)}", flip_schema_sql(flip)) as url:
        yield url


#: The session settings of the bench's own engines: FLIP's timestamps are naive UTC, so ``now()``
#: and the handlers' writes must agree on the session's time zone (the service's engine sets it too).
CONNECT_ARGS: dict[str, Any] = {"startup_params": {"TimeZone": "UTC"}}


def engine(url: str, **options: Any) -> Engine:
    """An engine of the bench's own (set-up, floors, reconciliation) on ``url``, sessions in UTC."""
    return create_engine(url, connect_args=CONNECT_ARGS, **options)


@dataclass(frozen=True)
class BenchModel:
    project_id: uuid.UUID
    model_id: uuid.UUID
    owner_id: uuid.UUID
    trust_ids: tuple[uuid.UUID, ...]
    slots: tuple[str, ...]


def create_model(engine: Engine, trusts: int = 5, slot_offset: int = 0) -> BenchModel:
    """An approved project owned by ``owner_id`` with a RUNNING model across ``trusts`` trusts (each
    with an FL kit slot, and approved the project)."""
    owner, project, model = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    trust_ids = tuple(uuid.uuid4() for _ in range(trusts))
    slots = tuple(f"Trust_{slot_offset + i + 1}" for i in range(trusts))
    numbers = range(slot_offset + 1, slot_offset + trusts + 1)
    with engine.begin() as connection:
        connection.execute(
            insert(Project).values(
                id=project, name="bench", description="bench", owner_id=owner, status=ProjectStatus.APPROVED
            )
        )
        connection.execute(
            insert(Model).values(
                id=model, name="bench", status=ModelStatus.RUNNING, project_id=project, owner_id=owner
            )
        )
        if not trust_ids:
            return BenchModel(project, model, owner, trust_ids, slots)
        connection.execute(
            insert(Trust),
            [
                {"id": t, "name": f"Bench trust {slot}", "code": f"BT{number}"}
                for t, slot, number in zip(trust_ids, slots, numbers, strict=True)
            ],
        )
        connection.execute(
            insert(FLKitSlot),
            [
                {"slot_name": slot, "slot_number": number, "assigned_to_trust_id": t}
                for t, slot, number in zip(trust_ids, slots, numbers, strict=True)
            ],
        )
        connection.execute(
            insert(ModelTrustIntersect),
            [
                {"model_id": model, "trust_id": t, "status": TrustIntersectStatus.INITIALISED}
                for t in trust_ids
            ],
        )
        connection.execute(
            insert(ProjectTrustIntersect),
            [
                {"project_id": project, "trust_id": t, "status": TrustApprovalStatus.APPROVED}
                for t in trust_ids
            ],
        )
    return BenchModel(project, model, owner, trust_ids, slots)


def fill_metrics(engine: Engine, model: BenchModel, rows: int) -> None:
    """``rows`` metric rows: every trust × every label × as many rounds as it takes (rows as FLIP's
    own code writes them: no FL message keys; the reads never look at those)."""
    per_round = len(model.trust_ids) * len(LABELS)
    rounds = max(1, rows // per_round)
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO fl_metrics (id, model_id, trust, fl_client_name, global_round, label, result,
                                        x_label, x_value)
                SELECT gen_random_uuid(), :m, t.id, t.slot, r, l.label, random(), 'Global Rounds', r
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
    """``rows`` log rows, one second apart: typed round events from the trusts and hub text lines
    (without FL message keys, like :func:`fill_metrics`' rows)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO fl_logs (id, model_id, log_date, success, trust, fl_client_name, log, event_type,
                                     global_round, details)
                SELECT gen_random_uuid(), :m, now() - make_interval(secs => :rows - i), true,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE (CAST(:trusts AS uuid[]))[1 + mod(i, :n)] END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE (CAST(:slots AS text[]))[1 + mod(i, :n)] END,
                       CASE WHEN mod(i, 4) = 0 THEN 'Hub line ' || i ELSE NULL END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE 'CLIENT_RESULT_RECEIVED' END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE 1 + i / 20 END,
                       CASE WHEN mod(i, 4) = 0 THEN NULL ELSE jsonb_build_object('size_bytes', 1000000 + i) END
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
                insert(Model),
                [
                    {
                        "id": id_,
                        "name": "bench spare",
                        "status": ModelStatus(status),
                        "project_id": model.project_id,
                        "owner_id": model.owner_id,
                    }
                    for id_ in ids
                ],
            )
    return ids


def add_project_with_model(engine: Engine, model: BenchModel) -> uuid.UUID:
    """A project of the same owner holding one PENDING model; returns the project id."""
    project = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(Project).values(
                id=project,
                name="bench spare",
                description="bench spare",
                owner_id=model.owner_id,
                status=ProjectStatus.APPROVED,
            )
        )
        connection.execute(
            insert(Model).values(
                name="bench spare", status=ModelStatus.PENDING, project_id=project, owner_id=model.owner_id
            )
        )
    return project
