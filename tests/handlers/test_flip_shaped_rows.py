"""Rows FLIP's schema allows and the service did not write (SPEC §2): a log line without a date, a
model without a project, a file FLIP's file service stored, FLIP's enum values. Every read answers
(never a 500), and the service's own writes set what FLIP's code sets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flip_models.enums import FileUploadStatus, ModelStatus
from flip_models.store.tables import FLLogs, Model, ModelTrustIntersect
from tests.builders import Given
from tests.handlers.api_world import build_world
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.sqs_events import bodies_event, failed_ids

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _undated_log(session: Session, model_id: uuid.UUID, line: str) -> uuid.UUID:
    """A row as another writer may store it: FLIP's ``log_date`` is nullable."""
    row_id = uuid.uuid4()
    session.execute(
        text("INSERT INTO fl_logs (id, model_id, log_date, success, log) VALUES (:id, :m, NULL, true, :log)"),
        {"id": row_id, "m": model_id, "log": line},
    )
    session.commit()
    return row_id


def test_a_log_line_without_a_date_is_served_first_and_paging_passes_it_once(given: Given) -> None:
    world = build_world(given)
    given.log(world.model, "dated, second", at=T0)
    given.log(world.model, "dated, third", at=T0 + timedelta(minutes=1))
    undated = _undated_log(given.session, world.model.id, "undated")
    path = {"modelId": str(world.model.id)}

    whole = world.viewer.call("get_model_logs", "GET", "/model/{modelId}/logs", path)
    pages: list[list[dict[str, object]]] = []
    query = {"limit": "1"}
    while True:  # from the newest row back to the oldest
        page = world.viewer.call("get_model_logs", "GET", "/model/{modelId}/logs", path, query=query)
        assert page.status == 200, page.raw_body
        pages.insert(0, page.body)
        if "X-Prev-Cursor" not in page.headers:
            break
        query = {"limit": "1", "cursor": page.headers["X-Prev-Cursor"]}

    assert whole.status == 200
    assert (whole.body[0]["log"], whole.body[0]["logDate"]) == ("undated", None)
    assert [row["log"] for row in whole.body] == ["undated", "dated, second", "dated, third"]
    assert [row["log"] for page in pages for row in page] == ["undated", "dated, second", "dated, third"]
    assert whole.body[0]["id"] == str(undated)


def test_the_progress_card_and_the_sweep_take_an_undated_row_in_their_stride(given: Given) -> None:
    world = build_world(given, status=ModelStatus.RUNNING)
    _undated_log(given.session, world.model.id, "undated")
    path = {"modelId": str(world.model.id)}

    progress = world.viewer.call("get_model_progress", "GET", "/model/{modelId}/progress", path)
    swept = invoke("fail_stale_runs", {"source": "aws.events", "detail-type": "Scheduled Event"})

    assert progress.status == 200
    assert progress.body["currentRound"] is None
    assert swept["failed"] == []  # a model created now is fresh; the undated row is no sign of life


def test_a_model_without_a_project_is_not_found_and_left_out_of_lists(
    given: Given, session: Session, logs_dlq: DeadLetterQueue
) -> None:
    """FLIP's ``model.project_id`` is nullable; no access rule can grant such a model to anyone but
    through a project, so every route answers 404 and lists leave it out; FL messages still apply."""
    world = build_world(given)
    orphan = world.another_model()
    session.execute(text("UPDATE model SET project_id = NULL WHERE id = :id"), {"id": orphan.id})
    session.commit()
    path = {"modelId": str(orphan.id)}

    detail = world.admin.call("get_model", "GET", "/model/{modelId}", path)
    status = world.admin.call("get_model_status", "GET", "/model/{modelId}/status", path)
    listed = world.admin.call("list_models", "GET", "/models")
    applied = invoke("fl_logs", bodies_event([{"model_id": str(orphan.id), "log": "still stored"}]))

    assert (detail.status, status.status) == (404, 404)
    assert listed.status == 200
    assert str(orphan.id) not in {row["id"] for row in listed.body["data"]}
    assert str(world.model.id) in {row["id"] for row in listed.body["data"]}
    assert failed_ids(applied) == []
    assert session.scalars(select(FLLogs.log).where(FLLogs.model_id == orphan.id)).all() == ["still stored"]
    assert logs_dlq.letters() == []


def test_a_file_flip_s_file_service_stored_shows_with_its_enum_status(given: Given) -> None:
    world = build_world(given)
    given.uploaded_file(world.model, "weights.pt", status=FileUploadStatus.INFECTED, size=12.5)

    page = world.viewer.call("get_model", "GET", "/model/{modelId}", {"modelId": str(world.model.id)})

    assert page.status == 200
    assert [(f["name"], f["status"], f["size"]) for f in page.body["files"]] == [
        ("weights.pt", "INFECTED", 12.5)
    ]


def test_a_model_the_api_creates_is_written_as_flip_api_writes_it(given: Given, session: Session) -> None:
    world = build_world(given)
    before = datetime.now(UTC)

    created = world.researcher.call(
        "create_model", "POST", "/model", body={"name": "New", "projectId": str(world.project.id)}
    )

    assert created.status == 201, created.raw_body
    model_id = uuid.UUID(created.body["id"])
    row = session.execute(
        text("SELECT status::text, deleted, creation_timestamp, description FROM model WHERE id = :id"),
        {"id": model_id},
    ).one()
    assert (row.status, row.deleted, row.description) == ("PENDING", False, "")
    assert row.creation_timestamp.tzinfo is None  # FLIP's naive column, holding UTC
    assert before - timedelta(seconds=5) <= row.creation_timestamp.replace(tzinfo=UTC) <= datetime.now(UTC)
    trusts = session.scalars(
        select(ModelTrustIntersect).where(ModelTrustIntersect.model_id == model_id)
    ).all()
    assert {trust.trust_id for trust in trusts} == {trust.id for trust in world.trusts}
    assert all(trust.id is not None and trust.status == "PENDING" for trust in trusts)
    assert session.get(Model, model_id) is not None
