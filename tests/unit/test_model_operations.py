"""edit_model, delete_model, delete_models, get_model_status, add_log (SPEC §3)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.core.audit import model_audit_trail
from flip_models.core.commands import delete_model, delete_models, edit_model
from flip_models.core.model_reads import get_model_status
from flip_models.core.schemas import ModelStatusView
from flip_models.core.transitions import add_log, update_model_status_by_user
from flip_models.core.trusts import resolve_trust_from_fl_client_name
from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, NetStatus, StatusAuditAction
from flip_models.errors import ConflictError, InvalidError, NotFoundError
from flip_models.store.tables import FLLogs, Model
from tests.builders import Given
from tests.unit.test_update_model_status import audits, hub_logs

S = ModelStatus


class TestEditModel:
    def test_sets_name_and_description_and_audits_edit(self, session: Session, given: Given) -> None:
        user = uuid.uuid4()
        model = given.model()

        edit_model(model.id, {"name": "  Renamed  ", "description": "New text"}, user, session)
        session.commit()

        session.refresh(model)
        assert (model.name, model.description) == ("Renamed", "New text")
        assert audits(session, model.id) == [(ModelAuditAction.EDIT, user)]

    @pytest.mark.parametrize(
        ("details", "field"),
        [
            ({"name": "x" * 76}, "name"),
            ({"name": "   "}, "name"),
            ({"description": "no name"}, "name"),
            ({"name": "ok", "description": "d" * 251}, "description"),
        ],
    )
    def test_invalid_details_name_the_field_and_write_nothing(
        self, session: Session, given: Given, details: dict[str, str], field: str
    ) -> None:
        model = given.model(name="Original")

        with pytest.raises(InvalidError) as raised:
            edit_model(model.id, details, uuid.uuid4(), session)

        assert raised.value.field == field
        session.rollback()
        session.refresh(model)
        assert model.name == "Original"
        assert audits(session, model.id) == []

    def test_limits_are_inclusive(self, session: Session, given: Given) -> None:
        model = given.model()

        edit_model(model.id, {"name": "n" * 75, "description": "d" * 250}, uuid.uuid4(), session)
        session.commit()

        session.refresh(model)
        assert (len(model.name), len(model.description)) == (75, 250)

    def test_missing_model_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFoundError):
            edit_model(uuid.uuid4(), {"name": "x"}, uuid.uuid4(), session)


class TestDeleteModel:
    def test_soft_deletes_with_a_delete_audit(self, session: Session, given: Given) -> None:
        user = uuid.uuid4()
        model = given.model(status=S.PENDING)

        delete_model(model.id, user, session)
        session.commit()

        session.refresh(model)
        assert model.deleted is True
        assert model.status == S.PENDING
        assert audits(session, model.id) == [(ModelAuditAction.DELETE, user)]

    def test_a_running_model_is_stopped_first_and_both_are_audited(
        self, session: Session, given: Given
    ) -> None:
        user = uuid.uuid4()
        model = given.model(status=S.RUNNING)
        job = given.job(model, status=JobStatus.IN_PROGRESS)
        scheduler = given.busy_scheduler(job)

        delete_model(model.id, user, session)
        session.commit()

        for row in (model, job, scheduler):
            session.refresh(row)
        assert (model.status, model.deleted) == (S.STOPPED, True)
        assert job.status == JobStatus.COMPLETED
        assert (scheduler.status, scheduler.job_id) == (NetStatus.AVAILABLE, None)
        assert sorted(audits(session, model.id)) == sorted(
            [(StatusAuditAction.STOPPED, user), (ModelAuditAction.DELETE, user)]
        )
        assert hub_logs(session, model.id) == [("The job for this model has been stopped.", False)]

    def test_already_deleted_is_a_conflict(self, session: Session, given: Given) -> None:
        model = given.model(deleted=True)

        with pytest.raises(ConflictError):
            delete_model(model.id, uuid.uuid4(), session)

    def test_missing_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFoundError):
            delete_model(uuid.uuid4(), uuid.uuid4(), session)


class TestDeleteModels:
    def test_counts_and_audits_only_models_not_yet_deleted(self, session: Session, given: Given) -> None:
        user = uuid.uuid4()
        project = given.project()
        live = [given.model(project, status=S.PENDING), given.model(project, status=S.RESULTS_UPLOADED)]
        running = given.model(project, status=S.RUNNING)
        gone = given.model(project, deleted=True)
        elsewhere = given.model()

        assert delete_models(project.id, user, session) == 3
        session.commit()

        rows = dict(session.execute(select(Model.id, Model.deleted)).all())
        assert all(rows[m.id] for m in [*live, running, gone])
        assert rows[elsewhere.id] is False
        for model in live:
            assert audits(session, model.id) == [(ModelAuditAction.DELETE, user)]
        assert sorted(audits(session, running.id)) == sorted(
            [(StatusAuditAction.STOPPED, user), (ModelAuditAction.DELETE, user)]
        )
        assert audits(session, gone.id) == []
        assert get_model_status(running.id, session) == ModelStatusView(status=S.STOPPED, deleted=True)

    def test_nothing_left_is_not_found_when_deletion_is_ensured(self, session: Session, given: Given) -> None:
        project = given.project()
        given.model(project, deleted=True)

        with pytest.raises(NotFoundError):
            delete_models(project.id, uuid.uuid4(), session)
        assert delete_models(project.id, uuid.uuid4(), session, ensure_deletion=False) == 0


def test_get_model_status_reports_deleted_models_and_none_for_missing(session: Session, given: Given) -> None:
    model = given.model(status=S.ERROR, deleted=True)

    assert get_model_status(model.id, session) == ModelStatusView(status=S.ERROR, deleted=True)
    assert get_model_status(uuid.uuid4(), session) is None


class TestAddLog:
    def test_commits_its_own_row_without_a_transaction(self, session: Session, given: Given, engine) -> None:  # type: ignore[no-untyped-def]
        model = given.model()

        add_log(model.id, "hello", session, event_type=None, success=False)

        with Session(engine) as other:
            row = other.execute(select(FLLogs.log, FLLogs.success, FLLogs.trust)).one()
        assert tuple(row) == ("hello", False, None)

    def test_with_the_callers_transaction_it_only_flushes(
        self, session: Session, given: Given, engine
    ) -> None:  # type: ignore[no-untyped-def]
        model = given.model()

        add_log(model.id, "pending", session, transaction=session.begin_nested())
        session.rollback()

        with Session(engine) as other:
            assert other.execute(select(FLLogs)).first() is None

    def test_takes_the_trust_an_fl_client_name_resolves_to(self, session: Session, given: Given) -> None:
        trust = given.trust("GSTT", slot="Trust_1")
        model = given.model(trusts=[trust])
        resolved = resolve_trust_from_fl_client_name("Trust_1", session)
        assert resolved is not None

        row = add_log(model.id, "site ready", session, trust=resolved, fl_client_name="Trust_1")

        assert (row.trust, row.fl_client_name) == (trust.id, "Trust_1")

    def test_an_error_rolls_back_and_reraises(self, session: Session) -> None:
        from sqlalchemy.exc import DBAPIError

        with pytest.raises(DBAPIError):  # the model does not exist: foreign key violation
            add_log(uuid.uuid4(), "orphan", session)
        assert session.execute(select(FLLogs)).first() is None


class TestPersonStatusChange:
    def test_only_stopped_or_pending(self, session: Session, given: Given) -> None:
        model = given.model(status=S.RUNNING)

        with pytest.raises(InvalidError) as raised:
            update_model_status_by_user(model.id, S.RESULTS_UPLOADED, uuid.uuid4(), session)
        assert raised.value.field == "status"

    def test_reports_change_and_no_change(self, session: Session, given: Given) -> None:
        user = uuid.uuid4()
        model = given.model(status=S.RUNNING)

        assert update_model_status_by_user(model.id, S.STOPPED, user, session) == (S.STOPPED, True)
        assert update_model_status_by_user(model.id, S.STOPPED, user, session) == (S.STOPPED, False)
        session.commit()
        assert [(entry.action, entry.user_id) for entry in model_audit_trail(model.id, session)] == [
            ("STOPPED", user)
        ]

    def test_deleted_or_missing_model_is_not_found(self, session: Session, given: Given) -> None:
        with pytest.raises(NotFoundError):
            update_model_status_by_user(given.model(deleted=True).id, S.STOPPED, uuid.uuid4(), session)
        with pytest.raises(NotFoundError):
            update_model_status_by_user(uuid.uuid4(), S.STOPPED, uuid.uuid4(), session)
