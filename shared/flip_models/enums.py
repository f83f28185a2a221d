"""Enumerations of the FLIP data model: FLIP's native enum types (member names as stored), and the
service's own ``StatusAuditAction``."""

from __future__ import annotations

from enum import StrEnum


class ModelStatus(StrEnum):
    """Lifecycle of a model. ``TRAINING_STARTED`` (older FL server images) is read as ``RUNNING``."""

    PENDING = "PENDING"
    INITIATED = "INITIATED"
    PREPARED = "PREPARED"
    RUNNING = "RUNNING"
    RESULTS_UPLOADED = "RESULTS_UPLOADED"
    RESULTS_UPLOAD_FAILED = "RESULTS_UPLOAD_FAILED"
    ERROR = "ERROR"
    STOPPED = "STOPPED"

    @classmethod
    def _missing_(cls, value: object) -> ModelStatus | None:
        if isinstance(value, str) and value.upper() == "TRAINING_STARTED":
            return cls.RUNNING
        return None


class ModelAuditAction(StrEnum):
    """FLIP's ``modelauditaction``: the actions ``models_audit`` can hold (SPEC §2)."""

    DELETE = "DELETE"
    EDIT = "EDIT"
    PREPARED = "PREPARED"
    RUNNING = "RUNNING"
    RESULTS_UPLOADED = "RESULTS_UPLOADED"


class StatusAuditAction(StrEnum):
    """The audited statuses FLIP's enum cannot hold: kept in the service's ``model_status_audit``."""

    STOPPED = "STOPPED"
    ERROR = "ERROR"
    RESULTS_UPLOAD_FAILED = "RESULTS_UPLOAD_FAILED"


class TrustApprovalStatus(StrEnum):
    """FLIP's ``trustapprovalstatus``: a trust's decision on a project (approved = ``APPROVED``)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


class DecisionMaker(StrEnum):
    HUB = "HUB"
    SITE = "SITE"


class FileUploadStatus(StrEnum):
    SCANNING = "SCANNING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    INFECTED = "INFECTED"


class ProjectStatus(StrEnum):
    UNSTAGED = "UNSTAGED"
    STAGED = "STAGED"
    APPROVED = "APPROVED"


class TrustIntersectStatus(StrEnum):
    PENDING = "PENDING"
    REQUEST_SENT = "REQUEST_SENT"
    INITIALISED = "INITIALISED"


class FLBackend(StrEnum):
    NVFLARE = "NVFLARE"
    FLOWER = "FLOWER"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    DELETED = "DELETED"


class NetStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    BUSY = "BUSY"


class FLLogEvent(StrEnum):
    """Typed log events known to the renderer; other event types are stored and shown generically."""

    ROUND_STARTED = "ROUND_STARTED"
    CLIENT_RESULT_RECEIVED = "CLIENT_RESULT_RECEIVED"
    ROUND_AGGREGATED = "ROUND_AGGREGATED"
    JOB_WAITING_FOR_RESOURCES = "JOB_WAITING_FOR_RESOURCES"
    QUEUE_POSITION = "QUEUE_POSITION"
