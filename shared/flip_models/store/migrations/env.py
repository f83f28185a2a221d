"""Alembic environment: runs on the connection handed over by ``flip_models.store.migrate``.

Each revision runs in a transaction of its own, so that a revision may build an index
``CONCURRENTLY`` in an autocommit block; a session-level advisory lock, held from the first revision
to the last, makes two migration runs at once (a deploy and a local stack, say) queue instead of
colliding.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from flip_models.store.tables import Base

#: Any constant shared by every process that migrates this database.
MIGRATION_LOCK_KEY = 7_460_312_001


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            compare_type=True,
            compare_server_default=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
