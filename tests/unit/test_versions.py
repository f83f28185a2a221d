"""The versions behind the polled reads' tags (core/versions.py): every kind of change moves the tag
of each read that shows it, whoever writes it (the service's builders or raw SQL straight into FLIP's
tables); nothing moves when nothing changed, or when another model changed."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from flip_models.core.access import Caller
from flip_models.core.listing import ModelFilter, visible_models
from flip_models.core.logs import logs_version
from flip_models.core.progress import progress_events
from flip_models.core.versions import View, list_version, metric_rows_version, model_version
from flip_models.enums import FileUploadStatus, FLLogEvent, JobStatus, ModelAuditAction, ModelStatus
from flip_models.store.tables import Model, Project, Trust
from tests.builders import Given

ROUNDS = itertools.count(1)
ADMIN = Caller(uuid.uuid4(), frozenset({"admin"}), is_admin=True, is_researcher=False)
ALL = frozenset({*View, "list"})


@dataclass
class Scene:
    given: Given
    engine: Engine
    project: Project
    model: Model
    other: Model
    trusts: list[Trust]

    def sql(self, statement: str, **params: object) -> None:
        """A write straight into FLIP's tables, as another of FLIP's services (or a person) might."""
        with self.engine.begin() as connection:
            connection.execute(text(statement), params)


def versions(session: Session, model: Model) -> dict[str, str]:
    """The version of every polled read of ``model`` (and of the admin's list)."""
    session.rollback()  # a fresh snapshot, as each request has
    parts = {
        View.LOGS: logs_version(model.id, limit=1000, cursor=None),
        View.PROGRESS: progress_events(model.id),
        View.METRICS: metric_rows_version(),
    }
    found: dict[str, str] = {
        view: model_version(view, model.id, ADMIN, session, part=parts.get(view)).version for view in View
    }
    found["list"] = list_version(visible_models(ADMIN, ModelFilter()), session)
    session.rollback()
    return found


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


#: Each kind of change: what it does, and the reads whose answers show it.
CHANGES: dict[str, tuple[Callable[[Scene], None], frozenset[str]]] = {
    "a log line": (
        lambda s: s.given.log(s.model, "hello", at=_now(), trust=s.trusts[0]),
        frozenset({View.LOGS, View.PROGRESS}),
    ),
    "a round starts": (
        lambda s: s.given.log(
            s.model,
            at=_now(),
            event_type=FLLogEvent.ROUND_STARTED.value,
            global_round=next(ROUNDS),
            details={},
        ),
        frozenset({View.LOGS, View.PROGRESS}),
    ),
    "a metric": (
        lambda s: s.given.metric(s.model, s.trusts[0], label="loss", x_value=1.0, result=0.5),
        frozenset({View.METRICS}),
    ),
    "a status": (
        lambda s: s.sql(
            "UPDATE model SET status = CAST(:status AS modelstatus) WHERE id = :id",
            id=s.model.id,
            status=ModelStatus.STOPPED.value,
        ),
        ALL,
    ),
    "an edit": (
        lambda s: s.sql("UPDATE model SET name = name || '!' WHERE id = :id", id=s.model.id),
        ALL,
    ),
    "a file": (lambda s: s.given.uploaded_file(s.model, "a.py"), frozenset({View.MODEL})),
    "a file scanned": (
        lambda s: s.sql(
            "UPDATE uploaded_files SET status = CAST(:status AS fileuploadstatus) WHERE model_id = :id",
            id=s.model.id,
            status=FileUploadStatus.INFECTED.value,
        ),
        frozenset({View.MODEL}),  # only when the model has files: drawn after "a file" below
    ),
    "a stage date": (
        lambda s: s.given.audit(s.model, ModelAuditAction.PREPARED),
        frozenset({View.MODEL}),
    ),
    "a roster": (
        lambda s: s.given.job(s.model, status=JobStatus.QUEUED, roster=s.trusts[:1]),
        frozenset({View.MODEL, View.PROGRESS, "list"}),
    ),
    "a queue move": (
        lambda s: s.sql("UPDATE fl_job SET status = 'IN_PROGRESS' WHERE status = 'QUEUED'"),
        frozenset({View.MODEL, View.PROGRESS, "list"}),
    ),
    "a trust renamed": (
        lambda s: s.sql("UPDATE trust SET name = name || '.' WHERE id = :id", id=s.trusts[0].id),
        frozenset({View.MODEL, View.TRUSTS, View.LOGS, View.METRICS, View.PROGRESS, "list"}),
    ),
    "a trust's request sent": (
        lambda s: s.sql(
            "UPDATE model_trust_intersect SET status = 'REQUEST_SENT' WHERE model_id = :id", id=s.model.id
        ),
        frozenset({View.TRUSTS}),
    ),
    "a project query": (
        lambda s: s.given.query(s.project, "cohort", "SELECT 1"),
        frozenset({View.MODEL}),
    ),
    "a raw log row": (
        lambda s: s.sql(
            "INSERT INTO fl_logs (id, model_id, log_date, success, log) VALUES (:id, :model, :at, true, 'x')",
            id=uuid.uuid4(),
            model=s.model.id,
            at=_now(),
        ),
        frozenset({View.LOGS}),  # no trust, no event: not on the progress card
    ),
    "a raw edit of a log row": (
        lambda s: s.sql(
            "UPDATE fl_logs SET log = coalesce(log, '') || '.' WHERE model_id = :id", id=s.model.id
        ),
        frozenset({View.LOGS}),
    ),
    "a raw metric row": (
        lambda s: s.sql(
            "INSERT INTO fl_metrics (id, trust, fl_client_name, model_id, global_round, label, result,"
            " x_label, x_value) VALUES (:id, :trust, 'Trust_1', :model, 1, 'auc', 0.7, 'Global Round', 1)",
            id=uuid.uuid4(),
            trust=s.trusts[1].id,
            model=s.model.id,
        ),
        frozenset({View.METRICS}),
    ),
    "a raw edit of a metric": (
        lambda s: s.sql("UPDATE fl_metrics SET result = result + 1 WHERE model_id = :id", id=s.model.id),
        frozenset({View.METRICS}),
    ),
    "a raw delete of a metric": (
        lambda s: s.sql(
            "DELETE FROM fl_metrics WHERE id IN (SELECT id FROM fl_metrics WHERE model_id = :id LIMIT 1)",
            id=s.model.id,
        ),
        frozenset({View.METRICS}),
    ),
    "an access row": (
        lambda s: s.sql(
            "INSERT INTO project_user_access (id, project_id, user_id) VALUES (:id, :project, :user)",
            id=uuid.uuid4(),
            project=s.project.id,
            user=uuid.uuid4(),
        ),
        frozenset(),  # the admin's answers do not change; a member's access is checked on each read
    ),
}
#: Changes only meaningful once an earlier one made their rows (else nothing is there to change).
NEEDS = {
    "a file scanned": "a file",
    "a raw edit of a log row": "a log line",
    "a raw edit of a metric": "a metric",
    "a raw delete of a metric": "a metric",
    "a queue move": "a roster",
}
#: What another model's changes may touch of this model's reads: none.
ELSEWHERE: dict[str, Callable[[Scene], None]] = {
    "another model's log line": lambda s: s.given.log(s.other, "elsewhere", at=_now()),
    "another model's metric": lambda s: s.given.metric(
        s.other, s.trusts[0], label="loss", x_value=2, result=1
    ),
    "another model's file": lambda s: s.given.uploaded_file(s.other, "b.py"),
}


def _scene(given_: Given, engine: Engine) -> Scene:
    trusts = [given_.trust("GSTT"), given_.trust("KCH")]
    project = given_.project(uuid.uuid4(), trusts=trusts)
    model = given_.model(project, trusts=trusts, status=ModelStatus.RUNNING)
    given_.job(model, roster=trusts, started=_now() - timedelta(hours=1))
    other_project = given_.project(uuid.uuid4(), trusts=trusts)
    other = given_.model(other_project, trusts=trusts)
    return Scene(given_, engine, project, model, other, trusts)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kinds=st.lists(st.sampled_from(sorted(CHANGES)), min_size=1, max_size=6),
    elsewhere=st.lists(st.sampled_from(sorted(ELSEWHERE)), max_size=2),
)
def test_each_change_moves_the_tags_that_show_it_and_only_changes_do(
    kinds: list[str], elsewhere: list[str], session: Session, engine: Engine
) -> None:
    scene = _scene(Given(session), engine)
    done: set[str] = set()
    before = versions(session, scene.model)

    assert versions(session, scene.model) == before  # nothing changed: nothing moves

    for kind in kinds:
        if kind in NEEDS and NEEDS[kind] not in done:
            continue
        change, shown = CHANGES[kind]
        change(scene)
        done.add(kind)
        after = versions(session, scene.model)
        moved = {view for view in after if after[view] != before[view]}
        assert shown <= moved, (kind, sorted(shown - moved))
        assert versions(session, scene.model) == after  # and stays put again
        before = after
    for kind in elsewhere:
        ELSEWHERE[kind](scene)
        assert versions(session, scene.model) == before, kind


def test_a_log_row_outside_the_page_is_not_in_its_version(session: Session, engine: Engine) -> None:
    """The logs' version covers the rows the page reads (its window), so a page deep in a long
    feed costs what the page does; a row older than the newest page does not move it, but a page
    further back that holds the row does."""
    scene = _scene(Given(session), engine)
    start = _now() - timedelta(days=1)
    for n in range(5):
        scene.given.log(scene.model, f"line {n}", at=start + timedelta(minutes=n))
    session.rollback()
    newest = model_version(
        View.LOGS, scene.model.id, ADMIN, session, part=logs_version(scene.model.id, limit=2, cursor=None)
    ).version
    everything = model_version(
        View.LOGS, scene.model.id, ADMIN, session, part=logs_version(scene.model.id, limit=10, cursor=None)
    ).version

    scene.given.log(scene.model, "late and old", at=start - timedelta(hours=1))
    session.rollback()

    assert (
        model_version(
            View.LOGS, scene.model.id, ADMIN, session, part=logs_version(scene.model.id, limit=2, cursor=None)
        ).version
        == newest
    )
    assert (
        model_version(
            View.LOGS,
            scene.model.id,
            ADMIN,
            session,
            part=logs_version(scene.model.id, limit=10, cursor=None),
        ).version
        != everything
    )


def test_no_model_has_no_version(session: Session) -> None:
    found = model_version(View.MODEL, uuid.uuid4(), ADMIN, session)

    assert found.facts is None
