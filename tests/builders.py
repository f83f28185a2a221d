"""Test data builders: small, explicit rows committed to the test database, shaped as flip-api writes
them (every NOT NULL column of FLIP's schema set: ids, timestamps, flags; SPEC §2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.enums import (
    FileUploadStatus,
    FLBackend,
    JobStatus,
    ModelAuditAction,
    ModelStatus,
    NetStatus,
    ProjectStatus,
    StatusAuditAction,
    TrustApprovalStatus,
)
from flip_models.store.tables import (
    FLJob,
    FLJobTrust,
    FLKitSlot,
    FLLogMessage,
    FLLogs,
    FLMetricMessage,
    FLMetrics,
    FLNets,
    FLScheduler,
    Model,
    ModelsAudit,
    ModelStatusAudit,
    ModelTrustIntersect,
    Project,
    ProjectTrustIntersect,
    ProjectUserAccess,
    Query,
    Trust,
    UploadedFile,
    UserProfile,
)


class Given:
    """``given.trust(...)``, ``given.model(...)``: each call commits its rows and returns them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _commit(self, *rows: Any) -> None:
        self.session.add_all(rows)
        self.session.commit()

    def trust(self, code: str | None = None, name: str | None = None, slot: str | None = None) -> Trust:
        n = self._next()
        trust = Trust(id=uuid.uuid4(), name=name or f"Trust number {n}", code=code)
        self._commit(trust)
        if slot is not None:
            self.slot(slot, trust)
        return trust

    def slot(self, slot_name: str, trust: Trust | None = None) -> FLKitSlot:
        slot = FLKitSlot(
            slot_name=slot_name,
            slot_number=self._next(),
            assigned_to_trust_id=trust.id if trust else None,
        )
        self._commit(slot)
        return slot

    def project(
        self,
        owner_id: uuid.UUID | None = None,
        *,
        status: ProjectStatus = ProjectStatus.APPROVED,
        trusts: Sequence[Trust] = (),
        access: Sequence[uuid.UUID] = (),
        deleted: bool = False,
    ) -> Project:
        project = Project(
            id=uuid.uuid4(),
            name=f"Project {self._next()}",
            owner_id=owner_id or uuid.uuid4(),
            status=status,
            deleted=deleted,
        )
        self._commit(project)
        self._commit(
            *[
                ProjectTrustIntersect(
                    project_id=project.id, trust_id=t.id, status=TrustApprovalStatus.APPROVED
                )
                for t in trusts
            ],
            *[ProjectUserAccess(project_id=project.id, user_id=user_id) for user_id in access],
        )
        return project

    def model(
        self,
        project: Project | None = None,
        *,
        status: ModelStatus = ModelStatus.PENDING,
        trusts: Sequence[Trust] = (),
        owner_id: uuid.UUID | None = None,
        deleted: bool = False,
        name: str | None = None,
        created: datetime | None = None,
    ) -> Model:
        project = project or self.project()
        model = Model(
            id=uuid.uuid4(),
            name=name or f"Model {self._next()}",
            status=status,
            project_id=project.id,
            owner_id=owner_id or uuid.uuid4(),
            deleted=deleted,
        )
        if created is not None:
            model.creation_timestamp = created
        self._commit(model)
        self._commit(
            *[ModelTrustIntersect(id=uuid.uuid4(), model_id=model.id, trust_id=t.id) for t in trusts]
        )
        return model

    def job(
        self,
        model: Model,
        *,
        status: JobStatus = JobStatus.IN_PROGRESS,
        created: datetime | None = None,
        roster: Sequence[Trust] = (),
        started: datetime | None = None,
    ) -> FLJob:
        """An ``fl_job`` of the model; ``roster``: the trusts it was dispatched to (``fl_job_trust``)."""
        job = FLJob(id=uuid.uuid4(), model_id=model.id, status=status, started=started)
        if created is not None:
            job.created = created
        self._commit(job)
        self._commit(*(FLJobTrust(fl_job_id=job.id, trust_id=trust.id) for trust in roster))
        return job

    def profile(self, user_id: uuid.UUID, name: str) -> UserProfile:
        row = UserProfile(user_id=user_id, name=name)
        self._commit(row)
        return row

    def query(self, project: Project, name: str, text: str, *, created: datetime | None = None) -> Query:
        row = Query(
            id=uuid.uuid4(), name=name, query=text, project_id=project.id, created_by=project.owner_id
        )
        if created is not None:
            row.created = created
        self._commit(row)
        return row

    def uploaded_file(
        self,
        model: Model,
        name: str,
        *,
        status: FileUploadStatus = FileUploadStatus.COMPLETED,
        size: float = 1024.0,
    ) -> UploadedFile:
        row = UploadedFile(
            id=uuid.uuid4(), name=name, status=status, size=size, type="text/plain", model_id=model.id
        )
        self._commit(row)
        return row

    def net(self, backend: FLBackend = FLBackend.NVFLARE, name: str | None = None) -> FLNets:
        """An FL net (``fl_nets``) running ``backend``, with no scheduler."""
        n = self._next()
        net = FLNets(id=uuid.uuid4(), name=name or f"net-{n}", endpoint=f"http://net-{n}", fl_backend=backend)
        self._commit(net)
        return net

    def busy_scheduler(self, job: FLJob) -> FLScheduler:
        n = self._next()
        net = FLNets(
            id=uuid.uuid4(), name=f"net-{n}", endpoint=f"http://net-{n}", fl_backend=FLBackend.NVFLARE
        )
        self._commit(net)
        scheduler = FLScheduler(id=uuid.uuid4(), net_id=net.id, status=NetStatus.BUSY, job_id=job.id)
        self._commit(scheduler)
        return scheduler

    def metric(
        self,
        model: Model,
        trust: Trust,
        *,
        label: str,
        x_value: float,
        result: float,
        x_label: str = "Global Round",
        global_round: int = 0,
        at: datetime | None = None,
    ) -> FLMetrics:
        row = FLMetrics(
            model_id=model.id,
            trust=trust.id,
            fl_client_name="Trust_x",
            global_round=global_round,
            label=label,
            result=result,
            x_label=x_label,
            x_value=x_value,
        )
        if at is not None:
            row.timestamp = at
        self._commit(row)
        return row

    def audit(
        self,
        model: Model,
        action: ModelAuditAction | StatusAuditAction,
        *,
        at: datetime | None = None,
        user_id: uuid.UUID | None = None,
    ) -> ModelsAudit | ModelStatusAudit:
        """An audit row where the service keeps it: FLIP's actions in ``models_audit``, the others
        in ``model_status_audit``."""
        row: ModelsAudit | ModelStatusAudit
        if isinstance(action, StatusAuditAction):
            row = ModelStatusAudit(model_id=model.id, action=action, user_id=user_id)
        else:
            row = ModelsAudit(model_id=model.id, action=action, user_id=user_id)
        if at is not None:
            row.audit_date = at
        self._commit(row)
        return row

    def log(
        self,
        model: Model,
        log: str | None = None,
        *,
        at: datetime | None = None,
        trust: Trust | None = None,
        success: bool = True,
        event_type: str | None = None,
        global_round: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> FLLogs:
        row = FLLogs(
            id=uuid.uuid4(),
            model_id=model.id,
            log=log,
            trust=trust.id if trust else None,
            fl_client_name="Trust_x" if trust else None,
            success=success,
            event_type=event_type,
            global_round=global_round,
            details=details,
        )
        if at is not None:
            row.log_date = at
        self._commit(row)
        return row

    def trust_for_project(self, project: Project, trust: Trust, *, approved: bool) -> None:
        status = TrustApprovalStatus.APPROVED if approved else TrustApprovalStatus.PENDING
        self._commit(ProjectTrustIntersect(project_id=project.id, trust_id=trust.id, status=status))


def message_key_of(session: Session, row: FLLogs | FLMetrics) -> str | None:
    """The idempotency key of the FL message that wrote ``row`` (the service's key tables), or None
    for a row written otherwise."""
    keys = FLLogMessage if isinstance(row, FLLogs) else FLMetricMessage
    return session.scalar(select(keys.message_id).where(keys.row_id == row.id))
