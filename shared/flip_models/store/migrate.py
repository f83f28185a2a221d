"""Apply or roll back the Alembic migrations of the FLIP schema on a given engine."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", "flip_models.store:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision``; returns the revision it is at afterwards."""
    with engine.connect() as connection:  # each revision commits its own transaction (env.py)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Downgrade the database to ``revision`` (``base`` empties it)."""
    with engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


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
