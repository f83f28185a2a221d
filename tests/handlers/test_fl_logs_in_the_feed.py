"""An FL log message all the way to a person's feed: stored by ``fl_logs``, read through
``GET /model/{id}/logs``. One odd row never breaks the feed (SPEC §3), long texts are cut, not
refused, and FL text is stored as it was sent (SPEC §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flip_models.store.tables import FLLogs
from tests.api_events import Person
from tests.builders import Given
from tests.handlers.api_world import World, build_world
from tests.handlers.conftest import DeadLetterQueue, invoke
from tests.handlers.test_fl_logs import event_log
from tests.sqs_events import bodies_event, failed_ids

#: Every test runs with the FL batch statement named (direct) and unnamed (behind a pooler).
pytestmark = pytest.mark.usefixtures("statement_strategy")

QUEUE = "fl-logs-dev"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def feed(person: Person, model_id: uuid.UUID) -> list[str]:
    """The rendered ``log`` texts of the model's first logs page; asserts the page answered 200.

    The one place that knows the route's response shape (a JSON array of rows, or the older
    ``{data, nextCursor}`` page).
    """
    response = person.call("get_model_logs", "GET", "/model/{modelId}/logs", {"modelId": str(model_id)})
    assert response.status == 200, (response.status, response.raw_body)
    rows: list[dict[str, Any]] = response.body if isinstance(response.body, list) else response.body["data"]
    return [row["log"] for row in rows]


def site(given: Given) -> World:
    """The API world, its first trust on FL kit slot ``Trust_1``."""
    world = build_world(given)
    given.slot("Trust_1", world.trusts[0])
    return world


def test_a_400_digit_size_is_stored_and_the_feed_renders_the_plain_form(
    given: Given, session: Session, logs_dlq: DeadLetterQueue
) -> None:
    """Found from the outside: the renderer's float conversion overflowed, and every page holding
    the row answered 500 from then on."""
    world = site(given)
    huge = 10**399 + 7
    bodies = [
        event_log(world.model, global_round=3),
        event_log(world.model, global_round=4, details={"size_bytes": huge}),
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert logs_dlq.letters() == []
    session.expire_all()
    stored = session.scalars(select(FLLogs.details).where(FLLogs.global_round == 4)).one()
    assert stored == {"size_bytes": huge}  # valid, and kept exactly
    assert feed(world.viewer, world.model.id) == [
        "Round 3 weights uploaded · 2.3 MB",
        "Round 4 results returned",
    ]


def test_rows_another_writer_stored_with_numbers_or_nesting_python_cannot_read_still_render(
    given: Given, session: Session
) -> None:
    """Other FLIP services write ``fl_logs`` too, and jsonb holds what Python's ``json`` refuses: an
    integer over its 4,300-digit limit, nesting deeper than its recursion limit. Reading such a row
    raised in the driver, in the middle of the page's rows."""
    world = site(given)
    model = world.model
    digits = "9" * 5000
    deep = '{"a": ' * 3000 + "1" + "}" * 3000
    for round_, details in [(1, f'{{"size_bytes": {digits}}}'), (2, deep), (3, '{"size_bytes": 1e400}')]:
        session.execute(
            text(
                "INSERT INTO fl_logs (id, model_id, log_date, success, event_type, global_round, details) "
                "VALUES (gen_random_uuid(), :model, :at, true, 'CLIENT_RESULT_RECEIVED', :round, "
                "CAST(:details AS jsonb))"
            ),
            {"model": model.id, "at": T0 + timedelta(minutes=round_), "round": round_, "details": details},
        )
    session.commit()
    given.log(model, "a line after them", at=T0 + timedelta(minutes=9))

    assert feed(world.viewer, model.id) == [
        "Round 1 results returned",
        "Round 2 results returned",
        "Round 3 results returned",
        "a line after them",
    ]


def test_format_characters_in_fl_text_are_stored_and_shown_as_they_were_sent(
    given: Given, session: Session, logs_dlq: DeadLetterQueue
) -> None:
    """Unicode format characters (category Cf: a right-to-left override, a zero-width space, an
    isolate) are refused in model names, but FL text is evidence: logs, event types and client
    names keep them (SPEC §5)."""
    world = site(given)
    slot = "Trust\u2066_2\u2069"  # an isolate around part of an FL kit slot's name
    given.slot(slot, world.trusts[1])
    line = "loss diverged at \u202etpircs\u202c step 7\u200b"
    bodies = [
        {"model_id": str(world.model.id), "fl_client_name": slot, "log": line},
        event_log(world.model, event_type="CUSTOM\u200bEVENT", global_round=2, details=None),
        {
            "model_id": str(world.model.id),
            "fl_client_name": "Site\u202e42",
            "log": "Traceback\u200b",
            "success": False,
        },
    ]

    response = invoke("fl_logs", bodies_event(bodies, queue=QUEUE))

    assert failed_ids(response) == []
    assert logs_dlq.letters() == []
    session.expire_all()
    rows = session.execute(
        select(FLLogs.fl_client_name, FLLogs.trust, FLLogs.log, FLLogs.event_type).order_by(FLLogs.log_date)
    ).all()
    assert [tuple(row) for row in rows] == [
        (slot, world.trusts[1].id, line, None),
        ("Trust_1", world.trusts[0].id, None, "CUSTOM\u200bEVENT"),
        ("Site\u202e42", None, "[unattributed client 'Site\u202e42'] Traceback\u200b", None),
    ]
    assert feed(world.viewer, world.model.id) == [
        line,
        "Round 2 · CUSTOM\u200bEVENT",
        "[unattributed client 'Site\u202e42'] Traceback\u200b",
    ]
