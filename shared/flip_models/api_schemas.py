"""Request and response bodies of the HTTP API (SPEC §4), camelCase on the wire.

Responses are built explicitly from query rows (never from ORM objects leaving their session).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flip_models.enums import ModelStatus, TrustIntersectStatus
from flip_models.schemas import CamelModel, ModelDescription, ModelName


class CreateModelRequest(CamelModel):
    """``POST /model``: name 1–75 characters after trimming, description 0–250, the project."""

    name: ModelName
    description: ModelDescription = ""
    project_id: uuid.UUID


class CreatedId(CamelModel):
    id: uuid.UUID


class TrustSummary(CamelModel):
    id: uuid.UUID
    name: str
    code: str | None


class ModelTrust(TrustSummary):
    """A trust taking part in a model, with the state of its request."""

    status: TrustIntersectStatus


class ModelDetail(CamelModel):
    """``GET /model/{modelId}``: stage dates are the latest audit row of that action, else null."""

    model_id: uuid.UUID
    model_name: str
    model_description: str
    project_id: uuid.UUID
    status: ModelStatus
    creation_timestamp: datetime
    prepared_at: datetime | None
    running_at: datetime | None
    results_uploaded_at: datetime | None
    trusts: list[TrustSummary]


class DeletedCount(CamelModel):
    deleted: int


class StatusChange(CamelModel):
    """A person's status change: the status the model has now and whether this request changed it."""

    status: ModelStatus
    changed: bool


class LogEntry(CamelModel):
    """One ``fl_logs`` row as people read it (``log`` rendered; trust null for hub rows)."""

    id: uuid.UUID
    model_id: uuid.UUID
    log_date: datetime
    success: bool
    trust_name: str | None
    trust_code: str | None
    global_round: int | None
    log: str


class LogsPage(CamelModel):
    """Oldest first; ``nextCursor`` is null on the last page."""

    data: list[LogEntry]
    next_cursor: str | None


class ModelSummary(CamelModel):
    """One row of ``GET /models``."""

    id: uuid.UUID
    name: str
    description: str
    status: ModelStatus
    project_id: uuid.UUID
    project_name: str
    owner_id: uuid.UUID
    creation_timestamp: datetime
    trusts: list[TrustSummary]


class ModelList(CamelModel):
    """A page of models; ``statusCounts`` has every status and ignores the status filter."""

    page: int
    page_size: int
    total_pages: int
    total_records: int
    data: list[ModelSummary]
    status_counts: dict[ModelStatus, int]


class ErrorBody(CamelModel):
    """Every error answer: the HTTP status, a message for people, and for a 400 the field at fault."""

    status_code: int
    message: str
    field: str | None = None


class ValidationIssue(CamelModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(CamelModel):
    """A 422: the request does not match the schema; ``detail`` lists each field (never its value)."""

    status_code: int
    message: str
    detail: list[ValidationIssue]
