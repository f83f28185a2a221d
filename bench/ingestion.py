"""FL ingestion throughput: the SQS handlers in-process, batches of 10, against two floors.

* **handler**: ``fl_logs`` / ``fl_metrics`` ``lambda_handler`` on Lambda SQS events of 10 valid
  messages (a moto queue stands in for the DLQ; nothing is expected to reach it), with the batch
  statement as a named prepared statement (the default, direct to PostgreSQL);
* **handler_unnamed**: the same with the statement unnamed, as behind a pooler
  (``DB_BEHIND_POOLER``): the container engine's ``flip_named_statements`` option is turned off
  around each of its batches (and on around the named path's), on the same connection.
* **batched floor**: the same writes as one raw statement per batch and a commit, through the same
  driver on a raw connection: no parsing, no attribution, no idempotency check. The handler writes
  two rows per message, FLIP's row (``fl_logs``/``fl_metrics``) and its key (``fl_log_message``/
  ``fl_metric_message``: model, ``event_id``, the row's id, the body's digest); so does the floor,
  in one multi-row ``INSERT`` into FLIP's table and one into the key table, joined in a single
  statement (a writable CTE: one round trip, as the handler's batch statement), plain inserts, no
  ``ON CONFLICT``. Like with like: before FLIP's schema the key was a column of the row, with its
  unique index, and the floor wrote it there.
* **rows-only floor** (reported, no goal): the same as the batched floor without the key rows, the
  cheapest possible write of the batch; what the key table costs is the gap between the two floors.
* **per-message floor**: the original FLIP API's design, per message: parse it, open a session,
  resolve the FL client's slot (ORM query), check the trust belongs to the model (query), insert the
  row with the ORM, commit. FLIP's design keeps no idempotency key, so this path writes the row only.

Every path inserts its own rows (distinct ``event_id``s) into the same model. The paths run
interleaved, batch by batch (handlers, floors, then the next batch), so
drift in the machine (disk flushes, other load) hits them alike; each path's rate is its messages
over the sum of its batch times.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench import dataset, lambdas
from bench.timing import goal
from flip_models.fl.messages import FLLogMessage, FLMetricMessage
from flip_models.store.tables import FLKitSlot, FLLogs, FLMetrics, ModelTrustIntersect

BATCH = 10
#: Goals: the handler at least this share of the batched floor, and this multiple of per-message.
BATCHED_GOAL = 0.5
PER_MESSAGE_GOAL = 5.0


def log_bodies(model: dataset.BenchModel, count: int, tag: str) -> list[dict[str, Any]]:
    """Typed round events from the model's trusts, as NVFLARE sends them."""
    return [
        {
            "model_id": str(model.model_id),
            "fl_client_name": model.slots[i % len(model.slots)],
            "event_type": "CLIENT_RESULT_RECEIVED",
            "global_round": 1 + i // len(model.slots),
            "details": {"size_bytes": 2_400_000 + i},
            "success": True,
            "event_id": f"{tag}-log-{i}",
        }
        for i in range(count)
    ]


def metric_bodies(model: dataset.BenchModel, count: int, tag: str) -> list[dict[str, Any]]:
    """One metric value per trust and round, as NVFLARE sends them."""
    return [
        {
            "model_id": str(model.model_id),
            "fl_client_name": model.slots[i % len(model.slots)],
            "global_round": i // len(model.slots),
            "label": "LOSS_FUNCTION",
            "result": 1.0 / (1 + i),
            "x_label": "Global Rounds",
            "x_value": i // len(model.slots),
            "event_id": f"{tag}-metric-{i}",
        }
        for i in range(count)
    ]


def batches(bodies: Sequence[Mapping[str, Any]]) -> list[Sequence[Mapping[str, Any]]]:
    return [bodies[start : start + BATCH] for start in range(0, len(bodies), BATCH)]


@contextmanager
def dead_letter_queue() -> Iterator[None]:
    """A moto queue as ``DEAD_LETTER_QUEUE_URL`` for the SQS handlers; the variable restored after."""
    from moto import mock_aws

    from flip_models.fl import dead_letters
    from flip_models.store.settings import get_settings

    previous = os.environ.get("DEAD_LETTER_QUEUE_URL")
    with mock_aws():
        import boto3

        url = boto3.client("sqs").create_queue(QueueName="bench-dlq")["QueueUrl"]
        os.environ["DEAD_LETTER_QUEUE_URL"] = url
        get_settings.cache_clear()
        dead_letters.reset_client()
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("DEAD_LETTER_QUEUE_URL", None)
            else:
                os.environ["DEAD_LETTER_QUEUE_URL"] = previous
            get_settings.cache_clear()
            dead_letters.reset_client()


#: One path's batches, each a call that applies one; ``close`` releases what the path holds.
@dataclass
class Runner:
    batches: list[Callable[[], None]]
    close: Callable[[], None] = lambda: None


def _handler_path(name: str, bodies: Sequence[Mapping[str, Any]], named: bool = True) -> Runner:
    from flip_models.store import db

    handler = lambdas.load_handler(name)
    queue = lambdas.fl_queue(name.replace("_", "-"))
    context = lambdas.context()

    def batch_of(event: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            engine = db.get_engine()
            engine.update_execution_options(**{db.NAMED_STATEMENTS: named})
            try:
                lambdas.check_batch(name, handler(event, context))
            finally:
                engine.update_execution_options(**{db.NAMED_STATEMENTS: True})

        return run

    return Runner([batch_of(lambdas.sqs_event(batch, queue)) for batch in batches(bodies)])


#: FLIP's columns of a row, in the floor's order (``id`` first: the key row names it).
_LOG_COLUMNS = (
    "id",
    "model_id",
    "log_date",
    "success",
    "trust",
    "fl_client_name",
    "log",
    "event_type",
    "global_round",
    "details",
)
_METRIC_COLUMNS = (
    "id",
    "model_id",
    "trust",
    "fl_client_name",
    "global_round",
    "label",
    "result",
    "x_label",
    "x_value",
    "timestamp",
)
#: The key table's columns (``fl_log_message``, ``fl_metric_message``), as the handler writes them.
_KEY_COLUMNS = ("model_id", "message_id", "row_id", "message_digest")


def _row(kind: str, body: Mapping[str, Any], row_id: str, trust: uuid.UUID, now: datetime) -> tuple[Any, ...]:
    if kind == "logs":
        return (
            row_id,
            body["model_id"],
            now,
            body["success"],
            str(trust),
            body["fl_client_name"],
            None,
            body["event_type"],
            body["global_round"],
            json.dumps(body["details"]),
        )
    return (
        row_id,
        body["model_id"],
        str(trust),
        body["fl_client_name"],
        body["global_round"],
        body["label"],
        body["result"],
        body["x_label"],
        body["x_value"],
        now,
    )


def _digest(body: Mapping[str, Any]) -> str:
    """A SHA-256 of the body, standing in for the handler's digest of the validated message (the same
    64 characters in the key row; computed before the timing, as the floor parses nothing)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _values(columns: Sequence[str], rows: int) -> str:
    cast = {"details": "CAST(%s AS jsonb)"}
    placeholders = "(" + ", ".join(cast.get(c, "%s") for c in columns) + ")"
    return ", ".join([placeholders] * rows)


def _batched_floor_path(
    engine: Engine,
    kind: str,
    model: dataset.BenchModel,
    bodies: Sequence[Mapping[str, Any]],
    keys: bool = True,
) -> Runner:
    """One raw statement and a commit per batch: the rows into FLIP's table and, with ``keys``, their
    key rows into the key table, in the same statement (module docstring)."""
    if kind == "logs":
        table, key_table, columns = "fl_logs", "fl_log_message", _LOG_COLUMNS
    else:
        table, key_table, columns = "fl_metrics", "fl_metric_message", _METRIC_COLUMNS
    trusts = dict(zip(model.slots, model.trust_ids, strict=True))
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None

    def batch_of(batch: Sequence[Mapping[str, Any]]) -> Callable[[], None]:
        ids = [str(uuid.uuid4()) for _ in batch]
        digests = [_digest(body) for body in batch]
        rows_sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_values(columns, len(batch))}"
        keys_sql = (
            f"INSERT INTO {key_table} ({', '.join(_KEY_COLUMNS)}) VALUES {_values(_KEY_COLUMNS, len(batch))}"
        )
        sql = f"WITH written AS ({rows_sql}) {keys_sql}" if keys else rows_sql

        def run() -> None:
            now = datetime.now(UTC).replace(tzinfo=None)  # FLIP's columns: naive, holding UTC
            values = [
                value
                for body, row_id in zip(batch, ids, strict=True)
                for value in _row(kind, body, row_id, trusts[body["fl_client_name"]], now)
            ]
            if keys:
                values += [
                    value
                    for body, row_id, digest in zip(batch, ids, digests, strict=True)
                    for value in (body["model_id"], body["event_id"], row_id, digest)
                ]
            cursor = connection.cursor()
            cursor.execute(sql, values)
            connection.commit()

        return run

    return Runner([batch_of(batch) for batch in batches(bodies)], raw.close)


def _per_message_path(engine: Engine, kind: str, bodies: Sequence[Mapping[str, Any]]) -> Runner:
    """The original FLIP design: a session, two lookups, an ORM insert and a commit per message (the
    row only: FLIP keeps no key of the message)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    texts = [json.dumps(body) for body in bodies]

    def apply(session: Session, raw: str) -> None:
        message: FLLogMessage | FLMetricMessage = (
            FLLogMessage.model_validate_json(raw)
            if kind == "logs"
            else FLMetricMessage.model_validate_json(raw)
        )
        slot = session.scalars(select(FLKitSlot).where(FLKitSlot.slot_name == message.fl_client_name)).first()
        if slot is None or slot.assigned_to_trust_id is None:
            raise RuntimeError("unknown FL client")
        found = session.scalar(
            select(func.count())
            .select_from(ModelTrustIntersect)
            .where(
                ModelTrustIntersect.model_id == message.model_id,
                ModelTrustIntersect.trust_id == slot.assigned_to_trust_id,
            )
        )
        if not found:
            raise RuntimeError("trust not in model")
        if isinstance(message, FLLogMessage):
            session.add(
                FLLogs(
                    model_id=message.model_id,
                    success=message.success,
                    trust=slot.assigned_to_trust_id,
                    fl_client_name=message.fl_client_name,
                    event_type=message.event_type,
                    global_round=message.global_round,
                    details=message.details,
                )
            )
        else:
            session.add(
                FLMetrics(
                    model_id=message.model_id,
                    trust=slot.assigned_to_trust_id,
                    fl_client_name=message.fl_client_name,
                    global_round=message.global_round,
                    label=message.label,
                    result=message.result,
                    x_label=message.x_label,
                    x_value=message.x_value,
                )
            )
        session.commit()

    def batch_of(batch: Sequence[str]) -> Callable[[], None]:
        def run() -> None:
            for raw in batch:
                with factory() as session:
                    apply(session, raw)

        return run

    return Runner([batch_of(texts[start : start + BATCH]) for start in range(0, len(texts), BATCH)])


def run_interleaved(paths: Mapping[str, Runner]) -> dict[str, dict[str, float]]:
    """Every path's batches in turn, batch i of each before batch i+1 of any; seconds per path."""
    seconds = dict.fromkeys(paths, 0.0)
    try:
        for step in zip(*(path.batches for path in paths.values()), strict=True):
            for name, batch in zip(paths, step, strict=True):
                started = time.perf_counter()
                batch()
                seconds[name] += time.perf_counter() - started
    finally:
        for path in paths.values():
            path.close()
    return {
        name: {
            "messages": len(path.batches) * BATCH,
            "seconds": round(seconds[name], 3),
            "msg_per_s": round(len(path.batches) * BATCH / seconds[name], 1),
        }
        for name, path in paths.items()
    }


def measure(engine: Engine, model: dataset.BenchModel, messages: int) -> dict[str, Any]:
    """Messages per second per queue for the handler and both floors, with the ratios and goals."""
    results: dict[str, Any] = {}
    makers = {"logs": log_bodies, "metrics": metric_bodies}
    with dead_letter_queue():
        for kind, make in makers.items():
            tag = uuid.uuid4().hex[:8]

            def paths(count: int, prefix: str, kind: str = kind, make: Any = make) -> dict[str, Runner]:
                return {
                    "handler": _handler_path(f"fl_{kind}", make(model, count, f"{prefix}-h")),
                    "handler_unnamed": _handler_path(
                        f"fl_{kind}", make(model, count, f"{prefix}-u"), named=False
                    ),
                    "floor_batched_insert": _batched_floor_path(
                        engine, kind, model, make(model, count, f"{prefix}-b")
                    ),
                    "floor_rows_only": _batched_floor_path(
                        engine, kind, model, make(model, count, f"{prefix}-r"), keys=False
                    ),
                    "floor_per_message": _per_message_path(engine, kind, make(model, count, f"{prefix}-p")),
                }

            # Warm every path first (imports, compiled statements, connections) on rows of its own.
            run_interleaved(paths(BATCH, f"{tag}-warm"))
            rates = run_interleaved(paths(messages, tag))
            handler, batched, per_message = (
                rates["handler"],
                rates["floor_batched_insert"],
                rates["floor_per_message"],
            )
            vs_batched = handler["msg_per_s"] / batched["msg_per_s"]
            vs_per_message = handler["msg_per_s"] / per_message["msg_per_s"]
            unnamed = rates["handler_unnamed"]
            results[kind] = {
                "batch_size": BATCH,
                "handler": handler,
                "handler_unnamed": unnamed,
                "unnamed_to_named": round(unnamed["msg_per_s"] / handler["msg_per_s"], 2),
                "floor_batched_insert": batched,
                "floor_batched_includes": f"{kind} rows and their key rows, one statement per batch",
                "floor_rows_only": rates["floor_rows_only"],
                "floor_per_message": per_message,
                "ratio_to_batched": round(vs_batched, 2),
                "ratio_to_per_message": round(vs_per_message, 2),
                **goal(
                    f"≥ {BATCHED_GOAL:g}× batched floor and ≥ {PER_MESSAGE_GOAL:g}× per-message design",
                    vs_batched >= BATCHED_GOAL and vs_per_message >= PER_MESSAGE_GOAL,
                ),
            }
    return results
