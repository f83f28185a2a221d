"""Alembic environment: runs on the connection handed over by ``flip_models.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from flip_models.store.tables import Base

#: Any constant shared by every process that migrates this database.
MIGRATION_LOCK_KEY = 7_460_312_001


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        # Two migration runs at once (a deploy and a local stack, say) queue instead of colliding.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
