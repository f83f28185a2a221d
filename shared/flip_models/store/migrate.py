"""Apply or roll back the Alembic migrations of the FLIP schema on a given engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

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
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database() -> str | None:
    """Upgrade the container's database (settings from the environment) to head.

    Driver errors leave as the domain's ``DatabaseUnavailableError`` or ``DatabaseError``.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from flip_models.store.db import get_engine, translate_db_error

    try:
        return upgrade(get_engine())
    except SQLAlchemyError as error:
        raise translate_db_error(error) from error
