"""Settings read once, credentials from DATABASE_URL or the RDS secret, TLS, sessions and errors."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pg8000.core as pg8000_core
import pytest
from moto import mock_aws
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.store import credentials, db
from flip_models.store.settings import Settings, get_settings
from flip_models.store.tables import Trust
from tests.round_trips import counting_round_trips


@pytest.fixture
def clean_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A cold container: no cached settings, secret or engine before and after."""
    db.reset_engine()
    yield monkeypatch
    monkeypatch.undo()
    db.reset_engine()


def test_settings_need_a_database() -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL or DB_SECRET_ARN"):
        Settings.from_env({})


def test_settings_parse_and_name_bad_values() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://x/y", "DB_SSL": "on", "ADMIN_GROUP": "flip-admins"}
    )
    assert settings.db_ssl is True
    assert settings.admin_group == "flip-admins"
    with pytest.raises(ConfigurationError, match="DB_TIMEOUT_SECONDS"):
        Settings.from_env({"DATABASE_URL": "postgresql://x/y", "DB_TIMEOUT_SECONDS": "-1"})


@pytest.mark.parametrize(("value", "behind"), [(None, False), ("true", True), ("ON", True), ("false", False)])
def test_behind_a_pooler_the_engine_names_no_statements(value: str | None, behind: bool) -> None:
    environ = {"DATABASE_URL": "postgresql://x/y"} | ({"DB_BEHIND_POOLER": value} if value else {})
    settings = Settings.from_env(environ)
    engine = db.build_engine(settings)

    assert settings.db_behind_pooler is behind
    assert engine.get_execution_options()[db.NAMED_STATEMENTS] is not behind


def test_settings_are_read_once_per_container(clean_container: pytest.MonkeyPatch, database_url: str) -> None:
    clean_container.setenv("ADMIN_GROUP", "first")
    assert get_settings().admin_group == "first"
    clean_container.setenv("ADMIN_GROUP", "second")
    assert get_settings().admin_group == "first"


def test_database_url_is_forced_onto_pg8000() -> None:
    url = credentials.database_url(Settings(database_url="postgresql://u:p@h:5433/d"))
    assert (url.drivername, url.host, url.port, url.database) == ("postgresql+pg8000", "h", 5433, "d")


def test_tls_on_passes_an_ssl_context_so_pg8000_cannot_fall_back_to_plaintext() -> None:
    args = db.connect_args(Settings(database_url="postgresql://h/d", db_ssl=True))
    assert isinstance(args["ssl_context"], ssl.SSLContext)
    assert args["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert db.connect_args(Settings(database_url="postgresql://h/d"))["ssl_context"] is False


def test_tls_required_against_a_server_without_tls_fails_instead_of_going_plaintext(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, db_ssl=True, db_timeout_seconds=5)
    engine = db.build_engine(settings)
    try:
        with pytest.raises(DatabaseUnavailableError), db.session_scope(sessionmaker(bind=engine)) as session:
            session.execute(text("select 1"))
    finally:
        engine.dispose()


@mock_aws
def test_credentials_from_the_rds_secret_named_in_the_environment(
    clean_container: pytest.MonkeyPatch, database_url: str, engine: object
) -> None:
    url = make_url(database_url)
    secret = {
        "engine": "postgres",
        "host": url.host,
        "port": url.port,
        "username": url.username,
        "password": "unused-with-trust-auth",
        "dbname": url.database,
    }
    arn = boto3.client("secretsmanager").create_secret(Name="flip/db", SecretString=json.dumps(secret))["ARN"]
    clean_container.delenv("DATABASE_URL")
    clean_container.setenv("DB_SECRET_ARN", arn)

    with db.session_scope() as session:
        session.add(Trust(name="From the secret", code="SEC"))
    with db.session_scope() as session:
        assert session.scalar(select(Trust.code)) == "SEC"
    assert db.get_engine().url.database == url.database


@mock_aws
def test_a_missing_secret_is_a_clear_configuration_error(clean_container: pytest.MonkeyPatch) -> None:
    clean_container.delenv("DATABASE_URL", raising=False)
    clean_container.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-2:123456789012:secret:missing")

    with pytest.raises(ConfigurationError, match="could not be read") as raised:
        db.get_engine()

    assert raised.value.message.endswith("(ResourceNotFoundException)")
    assert "arn:" not in raised.value.message


def test_secrets_manager_unreachable_is_a_transient_error(clean_container: pytest.MonkeyPatch) -> None:
    clean_container.delenv("DATABASE_URL", raising=False)
    clean_container.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-2:123456789012:secret:db")
    clean_container.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:1")

    with pytest.raises(DatabaseUnavailableError, match="Secrets Manager unreachable") as raised:
        db.get_engine()

    assert "127.0.0.1" not in raised.value.message


def test_session_scope_commits_on_success_and_rolls_back_on_error(engine: object, database_url: str) -> None:
    db.reset_engine()
    with db.session_scope() as session:
        session.add(Trust(name="kept"))
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.add(Trust(name="dropped"))
        session.flush()
        raise RuntimeError("boom")
    with db.session_scope() as session:
        assert session.scalars(select(Trust.name)).all() == ["kept"]


def test_commit_is_one_round_trip(engine: object, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db.reset_engine()
    with counting_round_trips(monkeypatch) as trips, db.session_scope() as session:
        session.add(Trust(name="committed"))
        session.flush()
        trips.clear()

    assert len(trips) == 1  # pg8000's own commit() takes three
    with db.session_scope() as session:
        assert session.scalars(select(Trust.name)).all() == ["committed"]


def test_committing_a_failed_transaction_raises_and_keeps_nothing(engine: object, database_url: str) -> None:
    service_engine = db.build_engine(get_settings())
    try:
        with service_engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(
                text("INSERT INTO trust (id, name, created_at) VALUES (gen_random_uuid(), 'lost', now())")
            )
            with pytest.raises(DBAPIError):
                connection.execute(text("SELECT 1 / 0"))
            with pytest.raises(DBAPIError, match="in failed transaction block"):
                transaction.commit()
        with service_engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM trust WHERE name = 'lost'")) == 0
    finally:
        service_engine.dispose()


def test_unreachable_database_is_a_typed_transient_error(clean_container: pytest.MonkeyPatch) -> None:
    clean_container.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    clean_container.setenv("DB_TIMEOUT_SECONDS", "2")

    with pytest.raises(DatabaseUnavailableError) as raised, db.session_scope() as session:
        session.get(Trust, uuid.uuid4())
    assert "SELECT" not in str(raised.value)


def test_a_connection_killed_between_invocations_is_replaced_transparently(
    engine: object, database_url: str
) -> None:
    db.reset_engine()
    with db.session_scope() as session:
        pid = session.scalar(text("select pg_backend_pid()"))
    with db.session_scope(sessionmaker(bind=engine)) as other:  # type: ignore[arg-type]
        # wait_for: terminate returns once the backend is gone, so the kill is really "between" calls
        other.execute(text("select pg_terminate_backend(:pid, 5000)"), {"pid": pid})

    with db.session_scope() as session:
        assert session.scalar(text("select pg_backend_pid()")) != pid


def test_an_invocation_is_begin_statement_commit_the_begin_being_the_ping(
    engine: object, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.reset_engine()
    with db.session_scope() as session:
        session.scalar(text("select 'first'"))  # the pooled connection exists: the next checkout pings it
    statements: list[str] = []
    real_execute_simple = pg8000_core.CoreConnection.execute_simple

    def recording(self: Any, statement: str) -> Any:
        statements.append(statement)
        return real_execute_simple(self, statement)

    monkeypatch.setattr(pg8000_core.CoreConnection, "execute_simple", recording)
    with db.session_scope() as session:
        session.scalar(text("select 'second'"))

    assert statements == ["begin transaction", "select 'second'", "COMMIT"]


def test_statement_timeout_or_cancel_is_transient(engine: object, database_url: str) -> None:
    db.reset_engine()
    with pytest.raises(DatabaseUnavailableError), db.session_scope() as session:
        session.execute(text("SET LOCAL statement_timeout = 50"))
        session.execute(text("select pg_sleep(1)"))
