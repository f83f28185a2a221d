"""Shared fixtures: one fresh PostgreSQL database per test run, migrated once; each test isolated.

The server is the real one on ``FLIP_TEST_PG`` (default 127.0.0.1:5432, trust auth). The run's
database is created here, migrated with Alembic (the production path) and dropped at the end. Its
kind is ``FLIP_TEST_SCHEMA``: ``service`` (default), an empty database the service's migrations
build; ``flip``, FLIP's database built from ``flip_head.sql`` and then migrated (SPEC §2: every
database tier runs on both; ``make test`` runs the second in parallel). After each test that used
the database every table is truncated, so tests see only their own rows whatever their sessions
committed (handlers commit for real).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from flip_local.databases import FLIP_HEAD_SQL, migrated_database
from flip_models.fl import dead_letters
from flip_models.store import db
from flip_models.store.settings import Settings
from flip_models.store.tables import FLIP_TABLES, OWN_TABLES
from tests.builders import Given

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ADMIN_URL = os.environ.get("FLIP_TEST_PG", "postgresql+pg8000://postgres@127.0.0.1:5432/postgres")
#: The kind of database this run's tests use (module docstring).
TEST_SCHEMA = os.environ.get("FLIP_TEST_SCHEMA", "service")
if TEST_SCHEMA not in ("service", "flip"):
    raise RuntimeError(f"FLIP_TEST_SCHEMA must be 'service' or 'flip', not {TEST_SCHEMA!r}")
#: The tables a test may fill (the install record stays).
TEST_TABLES = sorted((FLIP_TABLES | OWN_TABLES) - {"model_service_install"})

# Lambda-like environment for everything the tests import: no real AWS, no X-Ray daemon.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "flip-models-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "FLIP")
os.environ.setdefault("POWERTOOLS_DEV", "false")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test run's own, migrated to head; its URL is also ``DATABASE_URL``."""
    flip_sql = FLIP_HEAD_SQL if TEST_SCHEMA == "flip" else None
    with migrated_database(ADMIN_URL, f"flip_test_{TEST_SCHEMA}", flip_sql) as rendered:
        previous = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = rendered
        db.reset_engine()
        try:
            yield rendered
        finally:
            db.reset_engine()
            if previous is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = previous


@pytest.fixture(scope="session")
def _session_engine(database_url: str) -> Iterator[Engine]:
    # A pool wide enough for the concurrency tests' threads; production uses one connection.
    engine = db.build_engine(Settings(database_url=database_url), pool_size=25)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_session_engine: Engine) -> Iterator[Engine]:
    """The test run's engine; every table is emptied after the test."""
    yield _session_engine
    db.reset_engine()  # handlers may have opened the container engine: release its connection
    tables = ", ".join(f'"{table}"' for table in TEST_TABLES)
    with _session_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and asserting; the code under test may commit through it."""
    with session_factory() as session:
        yield session


@pytest.fixture
def given(session: Session) -> Given:
    """Builders of test data (committed, so other sessions and handlers see it)."""
    return Given(session)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SQSClient]:
    """moto in place of AWS for the test; the handlers' SQS client is created inside it."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):  # never a real endpoint (LocalStack)
        monkeypatch.delenv(variable, raising=False)
    with mock_aws():
        dead_letters.reset_client()
        yield boto3.client("sqs")
    dead_letters.reset_client()
