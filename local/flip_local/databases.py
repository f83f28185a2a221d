"""Throwaway PostgreSQL databases for the test runs and the benchmarks: created, migrated, dropped.

Two kinds, as a service meets them (SPEC §2): an empty database the service's migrations build
(FLIP's schema plus its own objects), or FLIP's database, built first from FLIP's DDL at its head
(``flip_head.sql``) and then migrated, as an operator adopting the service would.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from flip_models.store.migrate import upgrade

#: FLIP's schema at its head, as the contract ships it beside the checkout (``shared/flip-schema``).
FLIP_HEAD_SQL = Path(__file__).resolve().parents[2].parent / "shared" / "flip-schema" / "flip_head.sql"


def apply_sql_file(engine: Engine, path: Path) -> None:
    """Run an SQL script as psql would (its own ``BEGIN``/``COMMIT``), in one simple-protocol query."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.autocommit = True
        try:
            driver.execute_simple(path.read_text(encoding="utf-8"))
        finally:
            driver.autocommit = False
        connection.invalidate()  # its transaction state is the script's: never pooled again


@contextmanager
def migrated_database(admin_url: str, prefix: str, flip_schema_sql: Path | None = None) -> Iterator[str]:
    """A database of its own on ``admin_url``'s server, migrated to head with Alembic (the production
    path); with ``flip_schema_sql``, built from that FLIP DDL first (FLIP's database). Yields its
    pg8000 URL and drops it afterwards, even with connections still open."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(drivername="postgresql+pg8000", database=name)
        engine = create_engine(url)
        try:
            if flip_schema_sql is not None:
                apply_sql_file(engine, flip_schema_sql)
            upgrade(engine)
        finally:
            engine.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
