"""A database that answers too slowly (a lock held elsewhere, a stalled server) is 503, then recovered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flip_models.enums import ModelStatus
from flip_models.store import db
from flip_models.store.tables import Model
from tests.builders import Given
from tests.handlers.api_world import assert_error, build_world


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
