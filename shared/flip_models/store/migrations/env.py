"""Alembic environment: runs on the connection handed over by ``flip_models.store.migrate``.

The service's revisions live in its own version table (``flip_models_alembic_version``): FLIP's
``alembic_version`` is FLIP's Alembic's, and never written here.

Each revision runs in a transaction of its own, so that a revision may build an index
``CONCURRENTLY`` in an autocommit block; a session-level advisory lock, held from the first revision
to the last, makes two migration runs at once (a deploy and a local stack, say) queue instead of
colliding.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from flip_models.store.flip_schema import VERSION_TABLE
from flip_models.store.tables import FLIP_TABLES, OWN_TABLES, Base

#: Any constant shared by every process that migrates this database.
MIGRATION_LOCK_KEY = 7_460_312_001


def _only_what_the_service_declares(name: str | None, type_: str, parent_names: object) -> bool:
    """Comparisons (autogenerate, the schema test) look at the tables the service declares: FLIP's
    other tables (permissions, tasks, ...) and its version table are FLIP's business."""
    if type_ == "table":
        return name in FLIP_TABLES or name in OWN_TABLES
    return True


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
            version_table=VERSION_TABLE,
            include_name=_only_what_the_service_declares,
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
