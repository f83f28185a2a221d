"""The service's migrations on the two databases it meets (SPEC §2): an empty one, where they build
FLIP's schema and the service's own objects, and FLIP's, built from ``flip_head.sql``, where they add
only the service's own objects and leave every FLIP object exactly as it was."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from flip_local.databases import FLIP_HEAD_SQL, apply_sql_file
from flip_models.store import flip_schema, migrate, tables
from flip_models.store.tables import FLIP_TABLES, OWN_TABLES, Base
from tests.conftest import ADMIN_URL
from tests.flip_catalog import catalog, flip_only

ScratchFactory = Callable[[], Engine]


@pytest.fixture
def scratch() -> Iterator[ScratchFactory]:
    """Empty databases of their own (the shared test database must stay at head), dropped after."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[tuple[str, Engine]] = []

    def make() -> Engine:
        name = f"flip_migr_{os.getpid()}_{secrets.token_hex(3)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(make_url(ADMIN_URL).set(database=name))
        made.append((name, engine))
        return engine

    yield make
    for name, engine in made:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def flip_database(make: ScratchFactory) -> Engine:
    """FLIP's database at its head, as flip-api's migrations leave it (the contract's DDL)."""
    engine = make()
    apply_sql_file(engine, FLIP_HEAD_SQL)
    return engine


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return catalog(connection)


def schema_diff(engine: Engine) -> list[object]:
    """What the ORM declares and the database lacks or holds otherwise (the tables it declares)."""

    def declared(name: str | None, type_: str, _parents: object) -> bool:
        return type_ != "table" or name in FLIP_TABLES or name in OWN_TABLES

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_name": declared},
        )
        return list(compare_metadata(context, Base.metadata))


def test_the_shipped_ddl_is_the_contracts_flip_head_sql() -> None:
    shipped = Path(flip_schema.__file__).with_name(f"flip_head_{flip_schema.FLIP_HEAD}.sql")
    assert shipped.read_bytes() == FLIP_HEAD_SQL.read_bytes()


def test_on_flip_s_database_every_flip_object_is_byte_identical_and_a_second_run_changes_nothing(
    scratch: ScratchFactory,
) -> None:
    engine = flip_database(scratch)
    before = snapshot(engine)

    assert migrate.upgrade(engine) == "fm0003"
    after = snapshot(engine)
    assert migrate.upgrade(engine) == "fm0003"

    assert flip_only(after) == before
    assert after["alembic_version"] == [("f5ad2a562fad",)]
    assert snapshot(engine) == after  # migrate twice: nothing changes
    added_tables = {row[0] for row in after["columns"]} - {row[0] for row in before["columns"]}
    assert added_tables == OWN_TABLES | {flip_schema.VERSION_TABLE}
    added_indexes = {row[1] for row in after["indexes"]} - {row[1] for row in before["indexes"]}
    assert all(
        name.startswith("flip_models_") for name in added_indexes if row_table(after, name) in FLIP_TABLES
    )
    assert schema_diff(engine) == []


def row_table(snap: dict[str, list[tuple[object, ...]]], index: str) -> object:
    return next(row[0] for row in snap["indexes"] if row[1] == index)


def test_on_an_empty_database_the_migrations_build_flip_s_schema_and_the_service_s_objects(
    scratch: ScratchFactory,
) -> None:
    created = scratch()
    adopted = flip_database(scratch)

    migrate.upgrade(created)
    migrate.upgrade(adopted)

    assert snapshot(created) == snapshot(adopted)  # FLIP's schema, exactly, plus the same own objects
    assert schema_diff(created) == []
    with created.connect() as connection:
        install = connection.execute(
            text("SELECT flip_schema_created, flip_revision FROM model_service_install")
        )
        assert install.one() == (True, "f5ad2a562fad")
    with adopted.connect() as connection:
        install = connection.execute(
            text("SELECT flip_schema_created, flip_revision FROM model_service_install")
        )
        assert install.one() == (False, "f5ad2a562fad")


def test_removing_the_service_leaves_flip_s_database_as_it_was_and_an_empty_one_empty(
    scratch: ScratchFactory,
) -> None:
    adopted = flip_database(scratch)
    before = snapshot(adopted)
    created = scratch()
    for engine in (adopted, created):
        migrate.upgrade(engine)
        migrate.remove(engine)

    assert snapshot(adopted) == before
    assert inspect(created).get_table_names() == []
    assert snapshot(created)["enums"] == []
    assert migrate.upgrade(created) == "fm0003"  # and it can be installed again
    assert schema_diff(created) == []


def test_check_reports_flip_s_revision_and_what_a_migration_would_create(scratch: ScratchFactory) -> None:
    engine = flip_database(scratch)

    report = migrate.check(engine)

    assert report.ok
    assert (report.flip_revision, report.service_revision, report.service_head) == (
        "f5ad2a562fad",
        None,
        "fm0003",
    )
    assert {f"table {name}" for name in OWN_TABLES} <= set(report.would_create)
    assert "index flip_models_fl_logs_model_id_log_date_id on fl_logs" in report.would_create
    migrate.upgrade(engine)
    after = migrate.check(engine)
    assert (after.ok, after.service_revision, after.would_create) == (True, "fm0003", [])
    assert "FLIP revision: f5ad2a562fad" in after.lines()


def test_a_flip_upgrade_that_renames_or_retypes_a_column_is_caught_by_check_and_by_migrate(
    scratch: ScratchFactory,
) -> None:
    engine = flip_database(scratch)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE fl_logs RENAME COLUMN log_date TO logged_at"))
        connection.execute(text("ALTER TABLE model ALTER COLUMN owner_id TYPE varchar"))
        connection.execute(text("ALTER TABLE fl_metrics ADD COLUMN run_id uuid NOT NULL"))
    before = snapshot(engine)

    report = migrate.check(engine)
    with pytest.raises(flip_schema.FlipSchemaError) as refused:
        migrate.upgrade(engine)

    assert not report.ok
    assert "fl_logs.log_date: column missing" in report.problems
    assert any(problem.startswith("model.owner_id: is character varying") for problem in report.problems)
    assert any(
        problem.startswith("fl_metrics.run_id: NOT NULL without a default") for problem in report.problems
    )
    assert "fl_logs.log_date: column missing" in str(refused.value)
    assert flip_only(snapshot(engine)) == flip_only(before)  # nothing of the service was left behind
    assert migrate.current_revision(engine) is None


def test_an_enum_member_the_service_writes_missing_is_named(scratch: ScratchFactory) -> None:
    engine = flip_database(scratch)
    with engine.begin() as connection:  # modelauditaction without RUNNING, as a FLIP downgrade could
        connection.execute(text("ALTER TYPE modelauditaction RENAME VALUE 'RUNNING' TO 'TRAINING_STARTED'"))

    assert "models_audit.action: enum modelauditaction lacks RUNNING" in migrate.check(engine).problems


def test_a_database_of_the_old_track_or_with_flip_tables_but_no_revision_is_refused(
    scratch: ScratchFactory,
) -> None:
    old = scratch()
    with old.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0004')"))
    unstamped = flip_database(scratch)
    with unstamped.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))

    for engine, words in ((old, "first migration track"), (unstamped, "holds no FLIP revision")):
        with pytest.raises(flip_schema.FlipSchemaError, match=words):
            migrate.upgrade(engine)
        assert words in migrate.check(engine).problems[0]
    with old.connect() as connection:  # FLIP's version table is never written
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0004"


def test_flip_s_version_table_is_never_written_and_the_service_keeps_its_own(scratch: ScratchFactory) -> None:
    engine = flip_database(scratch)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "f5ad2a562fad"
        assert connection.scalar(text(f"SELECT version_num FROM {flip_schema.VERSION_TABLE}")) == "fm0003"


def test_a_table_is_declared_on_first_use_with_the_tables_its_foreign_keys_name() -> None:
    """A fresh interpreter: naming ``Model`` declares ``model`` and ``projects`` (its foreign key),
    and no other table; ``Base`` then declares all of them (what the migrations compare)."""
    probe = (
        "from flip_models.store.tables.base import Base as Declared\n"
        "from flip_models.store.tables import Model\n"
        "first = sorted(Declared.metadata.tables)\n"
        "from flip_models.store.tables import MODULES, Base\n"
        "print(first, len(Base.metadata.tables), len(set(MODULES)), Base is Declared)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    every = str(len(FLIP_TABLES | OWN_TABLES))
    assert run.stdout.split() == ["['model',", "'projects']", every, every, "True"]
    assert set(Base.metadata.tables) == {getattr(tables, name).__tablename__ for name in tables.MODULES}
