"""One statement per batch of FL logs or metrics: attribute every message and insert what is attributable.

The batch goes to PostgreSQL as one JSON parameter (``json_to_recordset``). The statement resolves
each message's model and FL client slot (through ``fl_kit_slot.assigned_to_trust_id``, never a
display name) and whether that trust belongs to the model, records the attributable messages' keys
in the service's key table (``fl_log_message``, ``fl_metric_message``) with ``ON CONFLICT
(model_id, message_id) DO NOTHING``, inserts into FLIP's table the rows of the keys new now (ids set
by the statement), and returns per message what it found and whether its row is new. Key and row are
written by one statement, so neither exists without the other; FLIP's table takes no column of ours.
What to do with a message that is *not* attributable (reject it, or keep a failed client's text as a
model-level row) is decided by the caller, in Python (SPEC §5), as is
reading the row a key had already (a redelivery or a reused ``event_id``), in the rare batch that
has one: joined back here, that lookup sat on the happy path, and the plan PostgreSQL kept for the
prepared statement from when the table was small scanned the whole table (4 ms a batch at 12,000
rows, and growing). The keys of one statement must be distinct: the caller sends one message per key.

One prepared statement is one round trip to the database per batch, where resolving slots, reading
the model's trusts and inserting as separate unnamed statements took nine with pg8000. Behind a
transaction-mode pooler (``DB_BEHIND_POOLER``) a named statement is session state the pooler does not
keep (or pins the connection for): there the same statement goes unnamed, with the same results
(:data:`flip_models.store.db.NAMED_STATEMENTS`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pg8000.dbapi
from sqlalchemy import Table, TextClause, exc, select, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection

from flip_models.store.db import NAMED_STATEMENTS
from flip_models.store.tables import (
    FLKitSlot,
    FLLogMessage,
    FLLogs,
    FLMetricMessage,
    FLMetrics,
    Model,
    ModelTrustIntersect,
    Trust,
)
from flip_models.store.tables.base import UtcDateTime

_POSTGRESQL = PGDialect()  # type: ignore[no-untyped-call]
#: Key of the prepared statements in a pooled connection's ``info``.
_PREPARED = "flip_prepared_statements"


@dataclass(frozen=True)
class Attribution:
    """What the database found for one message of the batch."""

    model_found: bool
    client_resolved: bool  #: the FL client name is an assigned slot (False when there is no client)
    trust_in_model: bool  #: that slot's trust is associated with the model
    inserted: bool  #: its row was written now (False for an attributable message: its key had a row)


@dataclass(frozen=True)
class BatchInsert:
    """The attribute-and-insert statement of one table and its key table; ``hub_rows``: rows without
    a client allowed."""

    table: Table
    key_table: Table
    data_columns: tuple[str, ...]
    hub_rows: bool
    #: Columns the statement dates itself, with the database's clock (``statement_timestamp()``).
    stamped: tuple[str, ...] = ()
    sql: str = field(init=False, repr=False, compare=False)
    unnamed: TextClause = field(init=False, repr=False, compare=False)
    kept_sql: TextClause = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sql", self._build())
        object.__setattr__(self, "unnamed", text(self.sql))
        object.__setattr__(self, "kept_sql", text(self._build_kept()))

    def _fields(self) -> str:
        """The recordset's data fields, typed as the table's columns; a timestamp is read as
        ``timestamptz`` (the JSON holds ISO times with their offset) and stored in the column's kind
        (naive UTC at FLIP's head: the session's time zone is UTC)."""
        types = {
            name: "timestamptz"
            if isinstance(self.table.c[name].type, UtcDateTime)
            else self.table.c[name].type.compile(dialect=_POSTGRESQL)
            for name in self.data_columns
        }
        return ", ".join(f"{name} {type_}" for name, type_ in types.items())

    def _inserts(self, keyed_where: str) -> str:
        """The two writes every statement shares: the keys new now, then the rows of those keys."""
        data = ", ".join(
            [
                *(f"batch.{name}" for name in self.data_columns),
                # The batch's rows in the order their messages were sent, a microsecond apart.
                *("statement_timestamp() + batch.sent_rank * interval '1 microsecond'" for _ in self.stamped),
            ]
        )
        columns = ", ".join([*self.data_columns, *self.stamped])
        return f"""
            keyed AS (
                INSERT INTO {self.key_table.name} (model_id, message_id, row_id, message_digest)
                SELECT model_id, message_id, row_id, message_digest FROM batch WHERE {keyed_where}
                ON CONFLICT (model_id, message_id) DO NOTHING
                RETURNING model_id, message_id, row_id
            ), inserted AS (
                INSERT INTO {self.table.name} (id, model_id, trust, fl_client_name, {columns})
                SELECT batch.row_id, batch.model_id, batch.trust, batch.fl_client_name, {data}
                FROM batch JOIN keyed ON keyed.row_id = batch.row_id
            )
        """  # noqa: S608 (names from the table definitions)

    def _build(self) -> str:
        """``seq, model_found, client_resolved, trust_in_model, inserted`` for every message.

        The names and types come from the tables; the data is the one parameter, ``:batch``.
        """
        attributable = "(fl_client_name IS NULL OR trust_in_model)" if self.hub_rows else "trust_in_model"
        sql = f"""
            WITH batch AS (
                SELECT b.*, gen_random_uuid() AS row_id, m.id IS NOT NULL AS model_found,
                       row_number() OVER (ORDER BY b.sent_at, b.seq) - 1 AS sent_rank,
                       s.assigned_to_trust_id AS trust,
                       EXISTS (SELECT FROM model_trust_intersect t
                               WHERE t.model_id = b.model_id AND t.trust_id = s.assigned_to_trust_id)
                       AS trust_in_model
                FROM json_to_recordset(CAST(:batch AS json))
                     AS b(seq integer, model_id uuid, fl_client_name text, message_id text,
                          message_digest text, sent_at timestamptz, {self._fields()})
                LEFT JOIN model m ON m.id = b.model_id
                LEFT JOIN fl_kit_slot s ON s.slot_name = b.fl_client_name
            ), {self._inserts(f"model_found AND {attributable}")}
            SELECT batch.seq, batch.model_found, batch.trust IS NOT NULL, batch.trust_in_model,
                   keyed.row_id IS NOT NULL
            FROM batch LEFT JOIN keyed ON keyed.row_id = batch.row_id
        """  # noqa: S608 (names and types from the table definition; the data is the one bound parameter)
        return " ".join(sql.split())

    def _build_kept(self) -> str:
        """Rows inserted as given (``trust`` included: a model-level row keeps it NULL), each with
        its key; returns the (model, key) of the rows written now."""
        sql = f"""
            WITH batch AS (
                SELECT b.*, gen_random_uuid() AS row_id,
                       row_number() OVER (ORDER BY b.sent_at, b.seq) - 1 AS sent_rank
                FROM json_to_recordset(CAST(:batch AS json))
                     AS b(seq integer, model_id uuid, trust uuid, fl_client_name text, message_id text,
                          message_digest text, sent_at timestamptz, {self._fields()})
            ), {self._inserts("true")}
            SELECT model_id, message_id FROM keyed
        """  # noqa: S608 (names and types from the table definition; the data is the one bound parameter)
        return " ".join(sql.split())

    def insert_kept(self, rows: Sequence[Mapping[str, Any]], connection: Connection) -> set[tuple[Any, str]]:
        """Insert ``rows`` (JSON-ready, with ``trust``) as they are, each under its key unless the key
        has a row already; the (model id, key) of the rows written now. One unnamed statement: rows
        are kept only in the rare batch with a failed text from an unattributable client."""
        batch = json.dumps([{"seq": seq, **row} for seq, row in enumerate(rows)], separators=(",", ":"))
        return {(model_id, key) for model_id, key in connection.execute(self.kept_sql, {"batch": batch})}

    def run(self, rows: Sequence[Mapping[str, Any]], connection: Connection) -> list[Attribution]:
        """Attribute and insert ``rows`` (JSON-ready: ``model_id``, ``fl_client_name`` and the data
        columns) in ``connection``'s transaction; one :class:`Attribution` per row, in order.

        The statement runs as a named server-side prepared statement of the connection (pg8000's
        ``prepare``, which SQLAlchemy's pg8000 dialect cannot do): one round trip per batch and a
        plan PostgreSQL can keep, where an unnamed statement costs more round trips and a plan per
        batch. When the connection's engine says no named statements (behind a pooler:
        :data:`~flip_models.store.db.NAMED_STATEMENTS`), it goes unnamed through SQLAlchemy, with
        the same results. Driver errors leave as SQLAlchemy's ``DBAPIError`` classes, like any
        statement's.
        """
        # ASCII JSON (the default): text PostgreSQL cannot store (NUL, a lone surrogate) reaches the
        # server as an escape it refuses with an SQLSTATE, never as a client-side encoding error.
        batch = json.dumps([{"seq": seq, **row} for seq, row in enumerate(rows)], separators=(",", ":"))
        result: Any
        if connection.get_execution_options().get(NAMED_STATEMENTS, True):
            try:
                result = self._prepared_on(connection).run(batch=batch)
            except pg8000.dbapi.Error as error:
                raise exc.DBAPIError.instance(self.sql, None, error, pg8000.dbapi.Error) from error
        else:
            result = connection.execute(self.unnamed, {"batch": batch})
        found: list[Attribution | None] = [None] * len(rows)
        for seq, *facts in result:
            found[seq] = Attribution(*facts)
        if None in found:  # cannot happen: every row of the recordset is selected back
            raise RuntimeError("the attribution statement lost a row")
        return found  # type: ignore[return-value]

    def _prepared_on(self, connection: Connection) -> Any:
        """This statement prepared on the connection's DBAPI connection, once: kept in the pool
        entry's ``info``, which goes with that connection (a replaced connection prepares again)."""
        pooled = connection.connection
        prepared: dict[str, Any] = pooled.info.setdefault(_PREPARED, {})
        statement = prepared.get(self.table.name)
        if statement is None:
            try:
                statement = pooled.driver_connection.prepare(self.sql)  # type: ignore[union-attr]
            except pg8000.dbapi.Error as error:
                raise exc.DBAPIError.instance(self.sql, None, error, pg8000.dbapi.Error) from error
            prepared[self.table.name] = statement
        return statement


#: Log rows: a hub row has no FL client.
LOG_ROWS = BatchInsert(
    FLLogs.__table__,  # type: ignore[arg-type]
    FLLogMessage.__table__,  # type: ignore[arg-type]
    ("success", "log", "event_type", "global_round", "details"),
    hub_rows=True,
    # Dated when written, by the database's clock, as FLIP dates its rows: the feed's order then only
    # grows as rows are written, and a reader paging forward never passes a late row (core/logs.py).
    stamped=("log_date",),
)
#: Metric rows: every metric belongs to a trust of the model.
METRIC_ROWS = BatchInsert(
    FLMetrics.__table__,  # type: ignore[arg-type]
    FLMetricMessage.__table__,  # type: ignore[arg-type]
    ("global_round", "label", "result", "x_label", "x_value", "timestamp"),
    hub_rows=False,
)


@dataclass(frozen=True)
class ModelAndClient:
    """What the FL ingress checks before it enqueues (read-only, SPEC §10): the model, and for a
    named FL client the trust its slot is assigned to and whether that trust is on the model."""

    model_found: bool
    trust_name: str | None = None  #: None: the name is no slot assigned to a trust
    trust_in_model: bool = False


def find_model_and_client(
    model_id: uuid.UUID, fl_client_name: str | None, connection: Connection
) -> ModelAndClient:
    """The model and the FL client's attribution, in one read (the same rules as the batch statement:
    ``fl_kit_slot.slot_name`` → ``assigned_to_trust_id`` → ``model_trust_intersect``)."""
    model = select(Model.id).where(Model.id == model_id).exists()
    if fl_client_name is None:
        return ModelAndClient(model_found=bool(connection.scalar(select(model))))
    slot = (
        select(FLKitSlot.assigned_to_trust_id)
        .where(FLKitSlot.slot_name == fl_client_name, FLKitSlot.assigned_to_trust_id.is_not(None))
        .scalar_subquery()
    )
    name = select(Trust.name).where(Trust.id == slot).scalar_subquery()
    in_model = (
        select(ModelTrustIntersect.id)
        .where(ModelTrustIntersect.model_id == model_id, ModelTrustIntersect.trust_id == slot)
        .exists()
    )
    row = connection.execute(select(model, name, in_model)).one()
    found, name, trust_in_model = row
    return ModelAndClient(model_found=bool(found), trust_name=name, trust_in_model=bool(trust_in_model))
