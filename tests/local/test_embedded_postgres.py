"""The local stack's default database: PostgreSQL from the pgserver wheel, data kept between runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from flip_local.postgres import EmbeddedPostgres
from flip_models.store.db import build_engine
from flip_models.store.settings import Settings


def test_embedded_postgres_starts_keeps_its_data_and_speaks_pg8000(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        engine = build_engine(Settings(database_url=url))
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (value text)"))
            connection.execute(text("INSERT INTO kept VALUES ('still here')"))
        engine.dispose()
    finally:
        server.stop()

    again = EmbeddedPostgres(data_dir)
    url = again.start()
    try:
        engine = build_engine(Settings(database_url=url))
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT value FROM kept")) == "still here"
        engine.dispose()
    finally:
        again.stop()
