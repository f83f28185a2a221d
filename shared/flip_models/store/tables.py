"""SQLAlchemy 2 ORM of the tables in SPEC §2 (names are a contract shared with other FLIP services).

Every id and timestamp has a server-side default so that other services can insert rows without
this package; enums are stored as text holding the upper-case member name, guarded by a CHECK.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum as PyEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flip_models.enums import (
    FLBackend,
    JobStatus,
    ModelAuditAction,
    ModelStatus,
    NetStatus,
    ProjectStatus,
    TrustIntersectStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(enum_cls: type[PyEnum], name: str) -> Enum:
    """A text column holding the enum member's name, with a CHECK listing the allowed names."""
    return Enum(enum_cls, name=name, native_enum=False, length=32, create_constraint=True)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()"))


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Trust(Base):
    __tablename__ = "trust"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    code: Mapped[str | None] = mapped_column(Text)


class FLKitSlot(Base):
    """An FL kit slot (``Trust_2``): the name FL servers report, assigned to one trust at a time."""

    __tablename__ = "fl_kit_slot"

    slot_name: Mapped[str] = mapped_column(Text, primary_key=True)
    slot_number: Mapped[int] = mapped_column(Integer, nullable=False)
    assigned_to_trust_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trust.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, server_default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    status: Mapped[ProjectStatus] = mapped_column(
        _enum(ProjectStatus, "project_status"),
        nullable=False,
        default=ProjectStatus.UNSTAGED,
        server_default=ProjectStatus.UNSTAGED.name,
    )
    creation_timestamp: Mapped[datetime] = _created_at()


class ProjectUserAccess(Base):
    __tablename__ = "project_user_access"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)


class ProjectTrustIntersect(Base):
    __tablename__ = "project_trust_intersect"

    id: Mapped[uuid.UUID] = _uuid_pk()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trust.id"), nullable=False)
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")


class Model(Base):
    __tablename__ = "model"
    __table_args__ = (Index("ix_model_creation_timestamp_id", "creation_timestamp", "id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(75), nullable=False)
    description: Mapped[str] = mapped_column(String(250), nullable=False, default="", server_default="")
    status: Mapped[ModelStatus] = mapped_column(
        _enum(ModelStatus, "model_status"),
        nullable=False,
        default=ModelStatus.PENDING,
        server_default=ModelStatus.PENDING.name,
    )
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    creation_timestamp: Mapped[datetime] = _created_at()


class ModelTrustIntersect(Base):
    __tablename__ = "model_trust_intersect"
    __table_args__ = (UniqueConstraint("model_id", "trust_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trust.id"), nullable=False)
    status: Mapped[TrustIntersectStatus] = mapped_column(
        _enum(TrustIntersectStatus, "trust_intersect_status"),
        nullable=False,
        default=TrustIntersectStatus.PENDING,
        server_default=TrustIntersectStatus.PENDING.name,
    )
    fl_client_endpoint: Mapped[str | None] = mapped_column(Text)


class ModelsAudit(Base):
    __tablename__ = "models_audit"
    __table_args__ = (
        Index("ix_models_audit_model_id_action_audit_date", "model_id", "action", "audit_date"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False)
    action: Mapped[ModelAuditAction] = mapped_column(
        _enum(ModelAuditAction, "model_audit_action"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    audit_date: Mapped[datetime] = _created_at()


class FLLogs(Base):
    """A log line or typed event of a model. ``message_id`` is the idempotency key of the FL message
    that wrote it, unique per model; ``message_digest`` fingerprints that message's body, so that a
    key reused with another body is told apart from a redelivery (SPEC §5)."""

    __tablename__ = "fl_logs"
    __table_args__ = (
        Index("ix_fl_logs_model_id_log_date_id", "model_id", "log_date", "id"),
        UniqueConstraint("model_id", "message_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False)
    log_date: Mapped[datetime] = _created_at()
    success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    trust: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trust.id"))
    fl_client_name: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str | None] = mapped_column(Text)
    global_round: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    message_id: Mapped[str | None] = mapped_column(Text)
    message_digest: Mapped[str | None] = mapped_column(Text)


class FLMetrics(Base):
    """One value of one metric; ``message_id`` and ``message_digest`` as in :class:`FLLogs`."""

    __tablename__ = "fl_metrics"
    __table_args__ = (
        Index("ix_fl_metrics_model_id_timestamp", "model_id", "timestamp"),
        UniqueConstraint("model_id", "message_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False)
    trust: Mapped[uuid.UUID] = mapped_column(ForeignKey("trust.id"), nullable=False)
    fl_client_name: Mapped[str] = mapped_column(Text, nullable=False)
    global_round: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[float] = mapped_column(Double, nullable=False)
    x_label: Mapped[str] = mapped_column(
        Text, nullable=False, default="Global Round", server_default="Global Round"
    )
    x_value: Mapped[float] = mapped_column(Double, nullable=False)
    timestamp: Mapped[datetime] = _created_at()
    message_id: Mapped[str | None] = mapped_column(Text)
    message_digest: Mapped[str | None] = mapped_column(Text)


class FLNets(Base):
    __tablename__ = "fl_nets"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    endpoint: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    fl_backend: Mapped[FLBackend] = mapped_column(_enum(FLBackend, "fl_backend"), nullable=False)


class FLJob(Base):
    __tablename__ = "fl_job"
    __table_args__ = (
        Index("ix_fl_job_model_id_created", "model_id", "created"),
        # The queue: QUEUED jobs in order (queue positions are ranks along this index).
        Index("ix_fl_job_queued", "created", "id", postgresql_where=text("status = 'QUEUED'")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False)
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"),
        nullable=False,
        default=JobStatus.QUEUED,
        server_default=JobStatus.QUEUED.name,
    )
    created: Mapped[datetime] = _created_at()
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FLScheduler(Base):
    __tablename__ = "fl_scheduler"

    id: Mapped[uuid.UUID] = _uuid_pk()
    net_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fl_nets.id"), nullable=False)
    status: Mapped[NetStatus] = mapped_column(
        _enum(NetStatus, "net_status"),
        nullable=False,
        default=NetStatus.AVAILABLE,
        server_default=NetStatus.AVAILABLE.name,
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fl_job.id"), index=True)


class ReceivedStatusMessage(Base):
    """An ``fl-status`` message already applied, by its model and idempotency key (``event_id`` or
    SQS message id). Written in the same transaction as the transition, so a redelivered message
    changes nothing; ``status`` tells a reused key with another body apart from a redelivery.
    """

    __tablename__ = "fl_status_message"

    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[ModelStatus] = mapped_column(_enum(ModelStatus, "requested_status"), nullable=False)
    result_status: Mapped[ModelStatus | None] = mapped_column(_enum(ModelStatus, "result_status"))
    received_at: Mapped[datetime] = _created_at()


class FLJobTrust(Base):
    """The roster of a run: the trusts an ``fl_job`` was dispatched to."""

    __tablename__ = "fl_job_trust"

    fl_job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fl_job.id"), primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trust.id"), primary_key=True)


class UserProfile(Base):
    """A person's display name (``user_id`` is the Cognito ``sub``)."""

    __tablename__ = "user_profile"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    organisation: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")


class Query(Base):
    """A project's cohort query; the latest by ``created`` is the project's query."""

    __tablename__ = "queries"
    __table_args__ = (Index("ix_queries_project_id_created", "project_id", "created"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    created: Mapped[datetime] = _created_at()
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), nullable=False)


class UploadedFile(Base):
    """A file a researcher uploaded for a model (written by FLIP's file service)."""

    __tablename__ = "uploaded_files"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[float | None] = mapped_column(Double)
    type: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(Text)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("model.id"), nullable=False, index=True)
