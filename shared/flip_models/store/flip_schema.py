"""FLIP's schema as the service finds it (SPEC §2): whose database this is, whether it holds every
FLIP column the service uses, and FLIP's own DDL for an empty database.

FLIP's Alembic owns FLIP's tables and keeps its revision in ``alembic_version``; the service keeps
its own in ``flip_models_alembic_version`` and never writes FLIP's. A database is recognised by that
revision, read, never guessed from the tables it holds. On an empty database the service creates
FLIP's schema at :data:`FLIP_HEAD` from the DDL shipped with it (``flip_head_<revision>.sql``, the
contract's ``flip_head.sql``), so both kinds of database are the same from then on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum as PyEnum
from importlib import resources
from typing import Final

from sqlalchemy import ARRAY, Boolean, Column, Connection, Double, Enum, Integer, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB

from flip_models.errors import FlipError
from flip_models.store.tables import FLIP_TABLES, Base
from flip_models.store.tables.base import UtcDateTime

#: FLIP's Alembic head the service is built and tested against (2026-10-10, the fl_job GPU request).
FLIP_HEAD: Final = "f5ad2a562fad"
#: The service's own Alembic version table (FLIP's is ``alembic_version``).
VERSION_TABLE: Final = "flip_models_alembic_version"
#: Revisions of the service's first migration track, which kept its revision in ``alembic_version``
#: and built a schema of its own: such a database is refused, never taken for FLIP's.
OLD_TRACK_REVISIONS: Final = frozenset({"0001", "0002", "0003", "0004"})

_DDL_FILE: Final = f"flip_head_{FLIP_HEAD}.sql"


class FlipSchemaError(FlipError):
    """The database cannot be taken as FLIP's: the message names each missing or incompatible piece."""


@dataclass(frozen=True)
class FoundDatabase:
    """What the database holds before the service touches it."""

    flip_revision: str | None  #: FLIP's Alembic revision (``alembic_version``), None when there is none
    flip_tables: tuple[str, ...]  #: FLIP's tables (those the service uses) present in the database

    @property
    def empty(self) -> bool:
        return self.flip_revision is None and not self.flip_tables


def find_database(connection: Connection) -> FoundDatabase:
    """FLIP's revision, read from ``alembic_version``, and which of FLIP's tables exist."""
    revision: str | None = None
    if connection.scalar(text("SELECT to_regclass('alembic_version')")) is not None:
        revisions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
        revision = ",".join(sorted(revisions)) or None
    present = connection.scalars(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ANY(:names) ORDER BY table_name"
        ),
        {"names": sorted(FLIP_TABLES)},
    ).all()
    return FoundDatabase(revision, tuple(present))


def refusal(found: FoundDatabase) -> str | None:
    """Why the service must not install itself on this database, or None when it may."""
    if found.flip_revision is not None and set(found.flip_revision.split(",")) & OLD_TRACK_REVISIONS:
        return (
            f"alembic_version holds {found.flip_revision}: this database was built by the model service's "
            "first migration track (a schema of its own, not FLIP's). It cannot be upgraded in place: "
            "create a new database (the local stack's: delete .local/pgdata) or point the service at FLIP's"
        )
    if found.flip_revision is None and found.flip_tables:
        return (
            f"FLIP's tables exist ({', '.join(found.flip_tables)}) but alembic_version holds no FLIP "
            "revision: run FLIP's own migrations (or stamp the revision the schema is at) first"
        )
    return None


def flip_ddl() -> list[str]:
    """FLIP's DDL at :data:`FLIP_HEAD`, one statement each, without its ``BEGIN``/``COMMIT`` (the
    migration's transaction holds it). It stamps ``alembic_version`` with FLIP's head, as FLIP's own
    migrations would have: the database is then FLIP's, and flip-api's Alembic can take it over."""
    source = resources.files("flip_models.store").joinpath(_DDL_FILE).read_text(encoding="utf-8")
    without_comments = re.sub(r"--[^\n]*", "", source)
    statements = [statement.strip() for statement in without_comments.split(";")]
    return [s for s in statements if s and s.upper() not in ("BEGIN", "COMMIT")]


def flip_ddl_objects() -> tuple[list[str], list[str]]:
    """The tables and the enum types FLIP's DDL creates, in the order it creates them."""
    tables: list[str] = []
    types: list[str] = []
    for statement in flip_ddl():
        if match := re.match(r"CREATE TABLE (\w+)", statement):
            tables.append(match.group(1))
        elif match := re.match(r"CREATE TYPE (\w+)", statement):
            types.append(match.group(1))
    return tables, types


def create_flip_schema(connection: Connection) -> None:
    for statement in flip_ddl():
        connection.execute(text(statement))


def drop_flip_schema(connection: Connection) -> None:
    """Remove what :func:`create_flip_schema` created (only ever on a database the service created)."""
    tables, types = flip_ddl_objects()
    for table in reversed(tables):
        connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    for type_ in reversed(types):
        connection.execute(text(f'DROP TYPE IF EXISTS "{type_}"'))


def compatibility_problems(connection: Connection) -> list[str]:
    """Every FLIP column the service reads or writes that is missing or of an incompatible kind, and
    every NOT NULL column without a default that the service's rows would leave empty.

    Checked against the catalog, so a FLIP upgrade that renames, drops or retypes a column, drops an
    enum member the service writes, or adds a required column, is caught at deploy time.
    """
    rows = connection.execute(
        text(
            "SELECT table_name, column_name, data_type, udt_name, is_nullable = 'YES', column_default "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ANY(:names)"
        ),
        {"names": sorted(FLIP_TABLES)},
    ).all()
    columns = {(row[0], row[1]): row for row in rows}
    enum_members: dict[str, set[str]] = {}
    for type_name, member in connection.execute(
        text("SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid")
    ):
        enum_members.setdefault(type_name, set()).add(member)
    problems: list[str] = []
    tables = {table.name: table for table in Base.metadata.sorted_tables if table.name in FLIP_TABLES}
    for name in sorted(FLIP_TABLES):
        if not any(table == name for table, _ in columns):
            problems.append(f"{name}: table missing")
            continue
        mapped = {column.name for column in tables[name].columns}
        for column in tables[name].columns:
            found = columns.get((name, column.name))
            if found is None:
                problems.append(f"{name}.{column.name}: column missing")
                continue
            problems.extend(_column_problems(name, column, found[2], found[3], found[4], enum_members))
        for (table, column_name), found in sorted(columns.items()):
            if table == name and column_name not in mapped and not found[4] and found[5] is None:
                problems.append(
                    f"{name}.{column_name}: NOT NULL without a default, unknown to the service "
                    "(its rows would leave it empty)"
                )
    return problems


def _column_problems(
    table: str,
    column: Column[object],
    data_type: str,
    udt_name: str,
    nullable: bool,
    enum_members: dict[str, set[str]],
) -> list[str]:
    where = f"{table}.{column.name}"
    kind = column.type
    problems: list[str] = []
    if isinstance(kind, Enum) and kind.native_enum:
        if udt_name != kind.name:
            problems.append(f"{where}: is {udt_name}, the service expects the enum type {kind.name}")
        else:
            enum_class: type[PyEnum] | None = kind.enum_class
            wanted = {member.name for member in enum_class} if enum_class else set(kind.enums)
            missing = sorted(wanted - enum_members.get(udt_name, set()))
            if missing:
                problems.append(f"{where}: enum {udt_name} lacks {', '.join(missing)}")
    elif not _compatible(kind, data_type, udt_name):
        problems.append(f"{where}: is {data_type}, the service expects {kind.compile()}")
    if nullable and not column.nullable and not column.primary_key:
        problems.append(f"{where}: allows NULL, the service reads it as NOT NULL")
    return problems


def _compatible(kind: object, data_type: str, udt_name: str) -> bool:
    if isinstance(kind, UtcDateTime):
        return data_type in ("timestamp without time zone", "timestamp with time zone")
    if isinstance(kind, ARRAY):
        return udt_name == "_uuid"
    if isinstance(kind, Uuid):
        return udt_name == "uuid"
    if isinstance(kind, Boolean):
        return udt_name == "bool"
    if isinstance(kind, Double):
        return udt_name == "float8"
    if isinstance(kind, Integer):
        return udt_name in ("int4", "int8")
    if isinstance(kind, JSONB):
        return udt_name == "jsonb"
    if isinstance(kind, String):
        return udt_name in ("varchar", "text")
    return False
