"""scripts/db/runtime_role.sql on the real PostgreSQL: the service runs as the runtime role, DDL is refused.

As in a deployment: an owner role and a runtime role; a database owned by the owner, migrated by the
migrate function as the owner; the script run by the owner through psql. Then, as the runtime role,
the demo data is seeded and every function (but migrate) handles its sample event, each in a process
of its own (tests/deploy/run_as_role.py), while every kind of DDL fails for lack of privilege.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from tests.conftest import ADMIN_URL
from tests.lambda_support import ROOT
from tests.template.test_api_template import api_routes

SCRIPT = ROOT / "scripts" / "db" / "runtime_role.sql"
API_ROUTES = api_routes()
FL_FUNCTIONS = ("fl_logs", "fl_metrics", "fl_status")
#: DDL and other owner's rights the runtime role must not have (statement → what it tries).
REFUSED = {
    "CREATE TABLE intruder (id int)": "create a table",
    "ALTER TABLE model ADD COLUMN intruder int": "alter a table",
    "DROP TABLE fl_logs": "drop a table",
    "TRUNCATE model CASCADE": "empty a table",
    "CREATE INDEX intruder ON model (name)": "create an index",
    "DROP INDEX flip_models_model_project_id": "drop an index",
    "ALTER TABLE model OWNER TO CURRENT_USER": "take a table over",
    "UPDATE alembic_version SET version_num = version_num": "change FLIP's schema version",
    "UPDATE flip_models_alembic_version SET version_num = version_num": "change the service's schema version",
    "DELETE FROM model_service_install": "forget how the service was installed",
    "CREATE SCHEMA intruder": "create a schema",
    "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'select 1'": "create a function",
    "ALTER TABLE model DISABLE TRIGGER ALL": "disable triggers",
}


@dataclass(frozen=True)
class Roles:
    owner_url: str
    runtime_url: str
    database: str


def _url(role: str, database: str) -> str:
    url = make_url(ADMIN_URL).set(
        drivername="postgresql+pg8000", username=role, password=None, database=database
    )
    return url.render_as_string(hide_password=False)


def _run(arguments: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "DB_SSL": "false", "PYTHONPATH": str(ROOT)}
    environment.pop("DB_SECRET_ARN", None)
    return subprocess.run(
        arguments, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    """Owner and runtime roles, a database of the owner's migrated by the migrate function, the grants
    script run by the owner; all dropped at the end."""
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    owner, runtime, database = f"flip_owner_{suffix}", f"flip_runtime_{suffix}", f"flip_roles_{suffix}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        connection.execute(text(f'CREATE ROLE "{runtime}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    try:
        found = Roles(_url(owner, database), _url(runtime, database), database)
        migrate = "from tests.lambda_support import load_function, lambda_context\n" + (
            "print(load_function('migrate').lambda_handler({}, lambda_context()))"
        )
        migrated = _run([sys.executable, "-c", migrate], found.owner_url)
        assert migrated.returncode == 0, migrated.stderr
        dsn = make_url(found.owner_url)
        server = ["-h", str(dsn.host), "-p", str(dsn.port or 5432), "-U", owner, "-d", database]
        psql = subprocess.run(
            ["psql", "--no-psqlrc", "--quiet", *server, "-v", f"runtime_role={runtime}", "-f", str(SCRIPT)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert psql.returncode == 0, psql.stderr
        yield found
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{runtime}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


@pytest.fixture
def seeded(roles: Roles) -> Roles:
    """The demo data alone, inserted as the runtime role (through the operator command)."""
    engine = create_engine(roles.owner_url)
    with engine.begin() as connection:
        query = (
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN "
            "('alembic_version', 'flip_models_alembic_version', 'model_service_install')"
        )
        tables = connection.scalars(text(query)).all()
        connection.execute(text("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " CASCADE"))
    engine.dispose()
    seeded = _run([str(Path(sys.executable).with_name("flip-models")), "seed-demo"], roles.runtime_url)
    assert seeded.returncode == 0, seeded.stderr
    return roles


def _rows(roles: Roles, table: str) -> int:
    engine = create_engine(roles.owner_url)
    with engine.connect() as connection:
        count = int(connection.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
    engine.dispose()
    return count


@pytest.mark.parametrize("function", FL_FUNCTIONS)
def test_the_fl_consumers_write_as_the_runtime_role(seeded: Roles, function: str) -> None:
    table = {"fl_logs": "fl_logs", "fl_metrics": "fl_metrics", "fl_status": "fl_status_message"}[function]
    before = _rows(seeded, table)

    result = _run([sys.executable, "-m", "tests.deploy.run_as_role", function], seeded.runtime_url)

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == []
    assert outcome["rejections"]  # the samples' bad messages, dead-lettered for what they are
    assert "database_rejected" not in outcome["rejections"]
    assert _rows(seeded, table) > before


def test_every_api_function_answers_as_the_runtime_role(seeded: Roles) -> None:
    result = _run([sys.executable, "-m", "tests.deploy.run_as_role", "api"], seeded.runtime_url)

    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout.strip().splitlines()[-1])["status"]
    assert len(statuses) == len(API_ROUTES)
    assert {name: 200 <= status < 300 for name, status in statuses.items()} == dict.fromkeys(
        statuses, True
    ), statuses


def test_the_fl_ingress_checks_and_enqueues_as_the_runtime_role(seeded: Roles) -> None:
    """Its read-only checks (the model, the client's trust) need only the runtime role's SELECT."""
    result = _run([sys.executable, "-m", "tests.deploy.run_as_role", "fl_ingress"], seeded.runtime_url)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"status": 204, "enqueued": 1}


@pytest.mark.parametrize("statement", sorted(REFUSED), ids=[REFUSED[s] for s in sorted(REFUSED)])
def test_the_runtime_role_may_not_change_the_schema(roles: Roles, statement: str) -> None:
    engine = create_engine(roles.runtime_url)
    try:
        with pytest.raises(ProgrammingError) as refused, engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()

    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


def test_the_owner_keeps_the_schema_and_may_migrate(roles: Roles) -> None:
    engine = create_engine(roles.owner_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE later_migration (id int)"))
        granted = connection.scalar(
            text("SELECT has_table_privilege(:role, 'later_migration', 'INSERT')"),
            {"role": make_url(roles.runtime_url).username},
        )
        connection.execute(text("DROP TABLE later_migration"))
    engine.dispose()

    assert granted is True  # a table of a later migration is the runtime role's to use, with no new grant
