"""SnapStart's runtime hooks (store/snapstart.py) around a simulated snapshot, on real PostgreSQL.

A snapshot is simulated by ``os.fork()``: like every container Lambda resumes from one snapshot, each
child starts with a copy of the parent's memory, sockets included. The children are the restored
copies: they run the after-restore hook, then an invocation (a session, as a handler opens one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import Engine, event, make_url, text

from flip_models.errors import DatabaseUnavailableError
from flip_models.store import credentials, db, snapstart
from tests.template.test_template import ROOT


@pytest.fixture
def container(
    monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine
) -> Iterator[pytest.MonkeyPatch]:
    """A cold container on the test database (``DATABASE_URL``); nothing cached before or after."""
    db.reset_engine()
    yield monkeypatch
    monkeypatch.undo()
    db.reset_engine()


def invoke() -> int:
    """One invocation's database work: the backend pid of the connection it used."""
    with db.session_scope() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))


def alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
        )


def gone(engine: Engine, pid: int) -> bool:
    """The backend has ended (its exit after the client's Terminate takes a moment)."""
    deadline = time.monotonic() + 5
    while alive(engine, pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def restored_copies(count: int) -> list[dict[str, Any]]:
    """Fork ``count`` copies of this process; each runs the after-restore hook then one invocation."""
    results = []
    for _ in range(count):
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the restored copy
            os.close(read)
            try:
                snapstart.after_restore()
                answer: dict[str, Any] = {"pid": invoke()}
            except BaseException as error:  # reported to the parent, which fails the test
                answer = {"error": repr(error)}
            os.write(write, json.dumps(answer).encode())
            os._exit(0)  # no interpreter shutdown: nothing of the parent's is closed on the way out
        os.close(write)
        with os.fdopen(read) as pipe:
            results.append(json.loads(pipe.read()))
        os.waitpid(child, 0)
    return results


def test_before_snapshot_warms_the_engine_and_leaves_no_connection_open(
    container: pytest.MonkeyPatch, engine: Engine
) -> None:
    opened: list[int] = []

    def record(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        opened.append(cursor.fetchone()[0])

    event.listen(Engine, "connect", record)
    try:
        snapstart.before_snapshot()
    finally:
        event.remove(Engine, "connect", record)

    container_engine = db.get_engine()
    assert len(opened) == 1, "the warm-up connects once"
    assert container_engine.dialect.server_version_info is not None, "the dialect learnt the server"
    assert container_engine.pool.checkedin() == container_engine.pool.checkedout() == 0
    assert gone(engine, opened[0]), "the warm-up's backend is still there: a socket in the snapshot"


def test_restored_copies_each_open_a_connection_of_their_own_and_work(
    container: pytest.MonkeyPatch, engine: Engine
) -> None:
    before = invoke()  # the init's own connection, if any
    snapstart.before_snapshot()

    copies = restored_copies(2)

    assert all("pid" in copy for copy in copies), copies
    pids = [copy["pid"] for copy in copies]
    assert len(set(pids)) == 2
    assert before not in pids
    assert gone(engine, before)


def test_after_restore_drops_an_inherited_connection_without_closing_it_for_the_others(
    container: pytest.MonkeyPatch, engine: Engine
) -> None:
    """The worst case: a snapshot taken with a pooled connection (no before-snapshot hook ran). Each
    copy must open its own; none may close the shared socket under the others (here, the parent)."""
    shared = invoke()

    copies = restored_copies(2)

    assert all("pid" in copy for copy in copies), copies
    assert shared not in {copy["pid"] for copy in copies}
    assert invoke() == shared, "a copy closed the connection the others share"


@mock_aws
def test_after_restore_reads_the_secret_again(container: pytest.MonkeyPatch, database_url: str) -> None:
    """The secret changed while the snapshot waited (a rotation; here, its database): a restored copy
    logs in with the secret as it is now, not the one cached in the snapshot."""
    url = make_url(database_url)
    secret = {
        "host": url.host,
        "port": url.port,
        "username": url.username,
        "password": "x",
        "dbname": url.database,
    }
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="flip/db", SecretString=json.dumps(secret))["ARN"]
    container.delenv("DATABASE_URL")
    container.setenv("DB_SECRET_ARN", arn)
    with db.session_scope() as session:  # a warm container: the secret cached, a connection pooled
        assert session.scalar(text("SELECT current_database()")) == url.database
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "dbname": "postgres"}))

    snapstart.after_restore()

    with db.session_scope() as session:
        assert session.scalar(text("SELECT current_database()")) == "postgres"


@mock_aws
def test_with_secrets_manager_out_of_reach_a_new_connection_keeps_the_credentials_it_had(
    container: pytest.MonkeyPatch, database_url: str
) -> None:
    """Reading the secret at each new connection must not make a warm container depend on Secrets
    Manager more than before: out of reach, the last credentials serve (a rejected one still resets)."""
    url = make_url(database_url)
    secret = {
        "host": url.host,
        "port": url.port,
        "username": url.username,
        "password": "x",
        "dbname": url.database,
    }
    arn = boto3.client("secretsmanager").create_secret(Name="flip/db", SecretString=json.dumps(secret))["ARN"]
    container.delenv("DATABASE_URL")
    container.setenv("DB_SECRET_ARN", arn)
    first = invoke()

    def unreachable(_settings: object) -> object:
        raise DatabaseUnavailableError("Secrets Manager unreachable")

    container.setattr(credentials, "url_from_secret", unreachable)
    snapstart.after_restore()

    assert invoke() != first  # a new connection, logged in with the credentials it had


def test_db_host_replaces_the_secrets_host_and_keeps_its_credentials(container: pytest.MonkeyPatch) -> None:
    """UseRdsProxy sets DB_HOST to the proxy's endpoint; the login is still the secret's."""
    from flip_models.store.settings import Settings

    secret = {"host": "db.internal", "port": 5432, "username": "runtime", "password": "pw", "dbname": "flip"}
    settings = Settings(db_secret_arn="arn:aws:secretsmanager:eu-west-2:1:secret:s", db_host="proxy.example")
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="s", SecretString=json.dumps(secret))["ARN"]
        url = credentials.database_url(settings.model_copy(update={"db_secret_arn": arn}))
    assert (url.host, url.username, url.password, url.database) == ("proxy.example", "runtime", "pw", "flip")
    assert Settings.from_env({"DATABASE_URL": "postgresql://h/d", "DB_HOST": ""}).db_host is None


def fresh_interpreter(probe: str, **environ: str) -> str:
    """What ``probe`` prints, run by a new interpreter with the layer on its path (a cold container)."""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "shared"), **environ},
    )
    return result.stdout


def test_hooks_are_registered_with_the_runtime_when_the_store_is_imported() -> None:
    """In Lambda, ``snapshot_restore_py`` is the runtime's; here a stand-in with its two functions."""
    probe = (
        "import sys, types\n"
        "runtime = types.ModuleType('snapshot_restore_py')\n"
        "runtime.before, runtime.after = [], []\n"
        "runtime.register_before_snapshot = runtime.before.append\n"
        "runtime.register_after_restore = runtime.after.append\n"
        "sys.modules['snapshot_restore_py'] = runtime\n"
        "import flip_models.store.db\n"
        "print([f.__name__ for f in runtime.before], [f.__name__ for f in runtime.after])\n"
    )
    assert fresh_interpreter(probe).split("\n")[0] == "['before_snapshot'] ['after_restore']"


def test_without_the_runtime_module_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as outside Lambda
    monkeypatch.setattr(snapstart, "_registered", False)
    assert snapstart.register() is False
    fake = types.ModuleType("snapshot_restore_py")
    calls: list[str] = []
    fake.register_before_snapshot = lambda f: calls.append(f.__name__)  # type: ignore[attr-defined]
    fake.register_after_restore = lambda f: calls.append(f.__name__)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    assert snapstart.register() is True
    assert snapstart.register() is True
    assert calls == ["before_snapshot", "after_restore"]


def test_before_snapshot_declares_every_table_a_function_has_not_touched(database_url: str) -> None:
    """Outside SnapStart a function declares only its tables; a snapshot holds them all, mapped."""
    probe = (
        "import json, sys\n"
        "from flip_models.store.tables import Trust\n"  # one table, as a function that touches few
        "from flip_models.store.tables.base import Base\n"
        "declared = len(Base.metadata.tables)\n"
        "from flip_models.store import snapstart\n"
        "snapstart.before_snapshot()\n"
        "from sqlalchemy import inspect\n"
        "mapped = all(inspect(m.class_).configured for m in Base.registry.mappers)\n"
        "from flip_models.store.tables import MODULES\n"
        "print(json.dumps([declared, len(Base.metadata.tables), mapped, len(MODULES)]))\n"
    )
    output = fresh_interpreter(probe, DATABASE_URL=database_url)
    before, after, mapped, every_table = json.loads(output.strip().splitlines()[-1])
    assert before < every_table
    assert after == every_table
    assert mapped is True


@mock_aws
def test_before_snapshot_leaves_the_secrets_password_nowhere_in_the_container(
    container: pytest.MonkeyPatch, database_url: str
) -> None:
    """Found in review: the engine kept the password in its URL and its pool's connect arguments."""
    import gc

    url = make_url(database_url)
    password = "S3CRET-pw-only-in-the-secret"  # trust auth: PostgreSQL accepts any password here
    secret = {"host": url.host, "port": url.port, "username": url.username, "password": password}
    secret["dbname"] = url.database
    arn = boto3.client("secretsmanager").create_secret(Name="flip/db", SecretString=json.dumps(secret))["ARN"]
    container.delenv("DATABASE_URL")
    container.setenv("DB_SECRET_ARN", arn)

    snapstart.before_snapshot()

    engine = db.get_engine()
    assert password not in engine.url.render_as_string(hide_password=False)
    for cell in getattr(engine.pool._creator, "__closure__", None) or ():  # type: ignore[attr-defined]
        assert password not in repr(cell.cell_contents)
    assert not credentials._last_login
    del secret
    gc.collect()
    assert not any(password in str(o) for o in gc.get_objects() if isinstance(o, dict) and "password" in o)
    assert invoke()  # and the next invocation reads the secret and logs in
