"""Apply, check or roll back the service's Alembic migrations on a given engine (SPEC §2).

The service's track (its own version table) adopts FLIP's schema where FLIP's migrations built it,
or creates it on an empty database, then adds only the service's own objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from flip_models.store import flip_schema
from flip_models.store.tables.base import OWN_INDEX_PREFIX

#: The server-side limits of a migration's session, in place of the service's (SPEC §6: below the
#: function's timeout, here the migrate function's 300 s). Building an index on a populated table,
#: waiting for older transactions (``CONCURRENTLY``) or for another migration run (the migration
#: lock) takes longer than a request may.
MIGRATION_LIMITS: Final = {"statement_timeout": "240s", "lock_timeout": "240s"}


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", "flip_models.store:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision``; returns the revision it is at afterwards."""
    with engine.connect() as connection, _migration_limits(connection):
        config = alembic_config()  # each revision commits its own transaction (env.py)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Downgrade the database to ``revision`` (``base`` empties it)."""
    with engine.connect() as connection, _migration_limits(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


def remove(engine: Engine) -> None:
    """Remove every object of the service: downgrade to nothing, then its version table. On FLIP's
    database FLIP's objects stay as they were; on a database the service created, FLIP's schema it
    created goes too (``model_service_install``)."""
    downgrade(engine, "base")
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {flip_schema.VERSION_TABLE}"))


@contextmanager
def _migration_limits(connection: Connection) -> Iterator[None]:
    """:data:`MIGRATION_LIMITS` for the session while it migrates; then the connection's own again
    (``RESET`` goes back to the values it connected with) before it returns to the pool. After a
    failure the connection is discarded instead, with whatever state it was left in."""
    for name, value in MIGRATION_LIMITS.items():
        connection.execute(text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value})
    connection.commit()
    try:
        yield
    except BaseException:
        connection.invalidate()
        raise
    connection.rollback()
    for name in MIGRATION_LIMITS:
        connection.execute(text(f"RESET {name}"))
    connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The service's revision (its own version table), None before its first migration."""
    with engine.connect() as connection:
        return _current_revision(connection)


def _current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": flip_schema.VERSION_TABLE})
    return context.get_current_revision()


@dataclass(frozen=True)
class SchemaCheck:
    """What ``flip-models migrate --check`` reports: FLIP's revision, the service's, every problem
    that would stop the migration (each names the missing piece), and what a migration would create."""

    flip_revision: str | None
    service_revision: str | None
    service_head: str
    problems: list[str] = field(default_factory=list)
    would_create: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "flipRevision": self.flip_revision,
            "serviceRevision": self.service_revision,
            "serviceHead": self.service_head,
            "problems": self.problems,
            "wouldCreate": self.would_create,
        }

    def lines(self) -> list[str]:
        lines = [
            f"FLIP revision: {self.flip_revision or 'none (empty database)'}"
            + (
                ""
                if self.flip_revision in (None, flip_schema.FLIP_HEAD)
                else f" (the service is built against {flip_schema.FLIP_HEAD})"
            ),
            f"service revision: {self.service_revision or 'none'} (head {self.service_head})",
        ]
        lines += [f"would create: {item}" for item in self.would_create] or ["would create: nothing"]
        lines += [f"problem: {problem}" for problem in self.problems]
        lines.append("ok" if self.ok else f"{len(self.problems)} problem(s): the migration would fail")
        return lines


def check(engine: Engine) -> SchemaCheck:
    """Read-only: is this database one the service can migrate, and what would migrating create?"""
    from flip_models.store.tables import FLIP_TABLES, OWN_TABLES, Base

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    with engine.connect() as connection:
        found = flip_schema.find_database(connection)
        revision = _current_revision(connection)
        problems: list[str] = []
        reason = flip_schema.refusal(found)
        if reason is not None:
            problems.append(reason)
        elif not found.empty:
            problems += flip_schema.compatibility_problems(connection)
        would_create: list[str] = []
        if found.empty:
            would_create.append(f"FLIP's schema at {flip_schema.FLIP_HEAD} (the database is empty)")
        existing = inspect(connection)
        tables = set(existing.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name in OWN_TABLES and table.name not in tables:
                would_create.append(f"table {table.name}")
            if table.name in FLIP_TABLES:
                present = (
                    {index["name"] for index in existing.get_indexes(table.name)}
                    if table.name in tables
                    else set()
                )
                would_create += [
                    f"index {index.name} on {table.name}"
                    for index in sorted(table.indexes, key=lambda index: str(index.name))
                    if str(index.name).startswith(OWN_INDEX_PREFIX) and index.name not in present
                ]
        connection.rollback()
    return SchemaCheck(found.flip_revision, revision, head, problems, would_create)


def upgrade_database() -> str | None:
    """Upgrade the container's database (settings from the environment) to head.

    Driver errors leave as the domain's ``DatabaseUnavailableError`` or ``DatabaseError``; a database
    the service cannot take as FLIP's as :class:`flip_schema.FlipSchemaError`, naming each problem.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from flip_models.store.db import get_engine, translate_db_error

    try:
        return upgrade(get_engine())
    except SQLAlchemyError as error:
        raise translate_db_error(error) from error


def check_database() -> SchemaCheck:
    """:func:`check` on the container's database (the migrate function's ``{"check": true}``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from flip_models.store.db import get_engine, translate_db_error

    try:
        return check(get_engine())
    except SQLAlchemyError as error:
        raise translate_db_error(error) from error
