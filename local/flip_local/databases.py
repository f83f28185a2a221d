"""Throwaway PostgreSQL databases for the test runs and the benchmarks: created, migrated, dropped."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

from flip_models.store.migrate import upgrade


@contextmanager
def migrated_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A database of its own on ``admin_url``'s server, migrated to head with Alembic (the production
    path); yields its pg8000 URL and drops it afterwards, even with connections still open."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(drivername="postgresql+pg8000", database=name)
        engine = create_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
