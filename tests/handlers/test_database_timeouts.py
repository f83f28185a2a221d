"""A database that answers too slowly (a lock held elsewhere, a stalled server) is 503, then recovered;
the server itself ends what runs or waits too long (SPEC §6)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pg8000
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from flip_models.enums import ModelStatus
from flip_models.errors import DatabaseUnavailableError
from flip_models.store import credentials, db
from flip_models.store.settings import get_settings
from flip_models.store.tables import Model
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world
from tests.round_trips import counting_round_trips


@pytest.fixture
def impatient_container(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The handlers' engine gives up on a silent database after one second."""
    monkeypatch.setenv("DB_TIMEOUT_SECONDS", "1")
    db.reset_engine()
    yield
    monkeypatch.undo()
    db.reset_engine()


def test_a_lock_held_longer_than_the_timeout_is_503_and_the_next_call_works(
    given: Given, session: Session, impatient_container: None
) -> None:
    """Found by the concurrency suite: pg8000's socket timeout escaped as a bare TimeoutError (500)
    and left the container's connection mid-protocol."""
    world = build_world(given, status=ModelStatus.RUNNING)
    path = {"modelId": str(world.model.id), "status": "STOPPED"}
    session.execute(select(Model).where(Model.id == world.model.id).with_for_update())  # held

    response = world.admin.call("update_model_status", "PATCH", "/model/{modelId}/status/{status}", path)

    body = assert_error(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "timed out" not in body["message"]
    session.rollback()  # the lock is released; the same warm container answers the next request
    again = world.admin.call("update_model_status", "PATCH", "/model/{modelId}/status/{status}", path)
    assert again.status == 200, again.raw_body
    assert again.body == {"status": "STOPPED", "changed": True}


# --- Server-side limits of every session (SPEC §6) --------------------------------------------------


@pytest.fixture
def container(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``container(DB_LOCK_TIMEOUT_SECONDS="1", …)``: a cold container with that environment."""

    def configure(**environment: str) -> None:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        db.reset_engine()

    yield configure
    monkeypatch.undo()
    db.reset_engine()


def _service_backends_waiting(session: Session) -> list[int]:
    """The service's backends (application name ``flip-models``) of this database waiting on a lock."""
    return list(
        session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = :name AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ),
            {"name": db.APPLICATION_NAME},
        )
    )


def _locks_not_granted(session: Session) -> int:
    """Lock requests of this database's backends still waiting."""
    waiting = session.scalar(
        text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
    )
    return int(waiting or 0)


def test_a_lock_held_elsewhere_is_503_within_the_lock_timeout_and_no_backend_is_left_waiting(
    given: Given, session: Session, container: Callable[..., None]
) -> None:
    """Found from the outside: the PATCH answered 503 when its socket timed out, but its backend
    kept waiting on the lock (and would have applied the stop once it got it)."""
    container(DB_LOCK_TIMEOUT_SECONDS="1", DB_TIMEOUT_SECONDS="3")
    world = build_world(given, status=ModelStatus.RUNNING)
    path = {"modelId": str(world.model.id), "status": "STOPPED"}
    session.execute(select(Model).where(Model.id == world.model.id).with_for_update())  # held

    started = time.monotonic()
    response = world.admin.call("update_model_status", "PATCH", "/model/{modelId}/status/{status}", path)
    elapsed = time.monotonic() - started

    assert_error(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert 1 <= elapsed < 2.5  # the lock timeout, not the 3 s socket timeout
    # The lock is still held, and nobody waits for it any more.
    assert _service_backends_waiting(session) == []
    assert _locks_not_granted(session) == 0
    session.rollback()
    again = world.admin.call("update_model_status", "PATCH", "/model/{modelId}/status/{status}", path)
    assert again.status == 200, again.raw_body


def test_a_statement_over_the_statement_timeout_is_cancelled_by_the_server_and_the_connection_kept(
    engine: Engine, container: Callable[..., None]
) -> None:
    container(DB_STATEMENT_TIMEOUT_SECONDS="0.5")
    with db.session_scope() as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))

    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError), db.session_scope() as session:
        session.execute(text("SELECT pg_sleep(5)"))
    elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 2
    with engine.connect() as other:  # the server stopped the statement: its backend is idle again
        state = other.scalar(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
    assert state == "idle"
    with db.session_scope() as session:  # and the same connection serves the next invocation
        assert session.scalar(text("SELECT pg_backend_pid()")) == pid


def test_a_session_left_idle_in_a_transaction_is_ended_by_the_server_and_its_locks_released(
    given: Given, session: Session, engine: Engine, container: Callable[..., None]
) -> None:
    """What a function that timed out mid-transaction leaves behind: a backend holding its locks."""
    container(DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS="0.5")
    model = given.model(status=ModelStatus.RUNNING)
    abandoned = db.get_engine().connect()
    abandoned.execute(select(Model.id).where(Model.id == model.id).with_for_update())
    pid = abandoned.scalar(text("SELECT pg_backend_pid()"))

    time.sleep(1.5)

    with engine.connect() as other:
        assert other.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}) == 0
    locked = session.execute(
        select(Model.id).where(Model.id == model.id).with_for_update(nowait=True)
    ).scalar_one()  # NOWAIT: raises if the row were still locked
    assert locked == model.id
    session.rollback()
    abandoned.invalidate()
    with db.session_scope() as fresh:  # the container carries on
        assert fresh.scalar(text("SELECT 1")) == 1


def test_the_limits_reach_every_session_at_connect_and_cost_no_round_trip(
    database_url: str, container: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    container()  # the defaults
    with db.session_scope() as session:
        shown = [
            session.scalar(text(f"SHOW {name}"))
            for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
        ]
    assert shown == ["8s", "5s", "10s"]

    settings = get_settings()
    args = db.connect_args(settings)
    url = credentials.database_url(settings)
    plain = {key: value for key, value in args.items() if key != "startup_params"}

    def trips_to_connect(**connect_args: Any) -> int:
        with counting_round_trips(monkeypatch) as trips:
            pg8000.connect(
                user=url.username, host=url.host, port=url.port, database=url.database, **connect_args
            ).close()
        return len(trips)

    assert trips_to_connect(**args) == trips_to_connect(**plain)


def test_every_session_runs_in_utc_with_iso_dates(database_url: str, container: Callable[..., None]) -> None:
    """FLIP's timestamps are naive UTC (SPEC §2) and the logs cursor carries dates as stored text."""
    container()
    with db.session_scope() as session:
        assert [session.scalar(text(f"SHOW {name}")) for name in ("TimeZone", "DateStyle")] == [
            "UTC",
            "ISO, MDY",
        ]
