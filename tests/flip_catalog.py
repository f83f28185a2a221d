"""A snapshot of a database's schema from PostgreSQL's catalog, to compare FLIP's objects before and
after the service's migrations (SPEC §2: the service never changes a FLIP object).

Everything in the schema is taken (tables, columns with type, nullability and default, constraints,
indexes, triggers, enum types with their members in order, sequences, and the rows of FLIP's
``alembic_version``); ``flip_only`` leaves out the service's own tables and its ``flip_models_*``
indexes, which is all the service may add.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from flip_models.store.flip_schema import VERSION_TABLE
from flip_models.store.tables import OWN_TABLES
from flip_models.store.tables.base import OWN_INDEX_PREFIX

_QUERIES = {
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, 2""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() ORDER BY 1, 2""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT t.tgisinternal ORDER BY 1, 2""",
    "enums": """
        SELECT t.typname, e.enumsortorder, e.enumlabel
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() ORDER BY 1, 2""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, increment_by FROM pg_sequences
        WHERE schemaname = current_schema() ORDER BY 1""",
    "privileges": """
        SELECT c.relname, c.relacl::text, pg_get_userbyid(c.relowner)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1""",
}


def catalog(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every object of the current schema, as sorted tuples per kind."""
    snapshot = {kind: [tuple(row) for row in connection.execute(text(sql))] for kind, sql in _QUERIES.items()}
    if connection.scalar(text("SELECT to_regclass('alembic_version')")) is not None:
        snapshot["alembic_version"] = [
            tuple(row) for row in connection.execute(text("SELECT * FROM alembic_version ORDER BY 1"))
        ]
    return snapshot


def flip_only(snapshot: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot without the service's own objects: its tables (and their sequences), its version
    table and its ``flip_models_*`` indexes."""
    own = OWN_TABLES | {VERSION_TABLE}
    kept: dict[str, list[tuple[Any, ...]]] = {}
    for kind, rows in snapshot.items():
        if kind in ("columns", "constraints", "triggers", "privileges", "indexes"):
            rows = [row for row in rows if row[0] not in own]
        if kind == "indexes":
            rows = [row for row in rows if not str(row[1]).startswith(OWN_INDEX_PREFIX)]
        kept[kind] = rows
    return kept
