"""Alembic migrations and the ORM agree, and the schema can go down and up again."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from flip_models.store import migrate, tables
from flip_models.store.tables import Base
from tests.conftest import ADMIN_URL


@pytest.fixture
def scratch_engine() -> Iterator[Engine]:
    """An empty database of its own (the shared test database must stay at head)."""
    name = f"flip_migr_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(ADMIN_URL).set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_migrations_build_exactly_the_orm_schema_from_an_empty_database(scratch_engine: Engine) -> None:
    assert migrate.upgrade(scratch_engine) is not None

    assert schema_diff(scratch_engine) == []


def test_downgrade_to_base_then_upgrade_again(scratch_engine: Engine) -> None:
    head = migrate.upgrade(scratch_engine)

    assert migrate.downgrade(scratch_engine, "base") is None
    assert set(inspect(scratch_engine).get_table_names()) <= {"alembic_version"}

    assert migrate.upgrade(scratch_engine) == head
    assert schema_diff(scratch_engine) == []


def test_enum_values_are_stored_as_upper_case_names_and_checked(scratch_engine: Engine) -> None:
    migrate.upgrade(scratch_engine)
    with scratch_engine.begin() as connection:
        project = connection.execute(
            text("INSERT INTO projects (name, owner_id) VALUES ('p', gen_random_uuid()) RETURNING id, status")
        ).one()
        assert project.status == "UNSTAGED"
        connection.execute(
            text("INSERT INTO model (name, project_id, owner_id) VALUES ('m', :p, gen_random_uuid())"),
            {"p": project.id},
        )
    with pytest.raises(Exception, match="ck_model_model_status"), scratch_engine.begin() as connection:
        connection.execute(text("UPDATE model SET status = 'running'"))


def test_timestamps_are_timestamptz_with_server_defaults(scratch_engine: Engine) -> None:
    migrate.upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'"
            )
        ).all()
    assert rows
    assert {data_type for _, _, data_type in rows} == {"timestamp with time zone"}


def test_a_table_is_declared_on_first_use_with_the_tables_its_foreign_keys_name() -> None:
    """A fresh interpreter: naming ``Model`` declares ``model`` and ``projects`` (its foreign key),
    and no other table; ``Base`` then declares all of them (what the migrations compare)."""
    probe = (
        "from flip_models.store.tables.base import Base as Declared\n"
        "from flip_models.store.tables import Model\n"
        "first = sorted(Declared.metadata.tables)\n"
        "from flip_models.store.tables import MODULES, Base\n"
        "print(first, len(Base.metadata.tables), len(MODULES), Base is Declared)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert run.stdout.split() == ["['model',", "'projects']", "18", "18", "True"]
    assert set(Base.metadata.tables) == {getattr(tables, name).__tablename__ for name in tables.MODULES}
