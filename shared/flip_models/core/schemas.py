"""Pydantic models of the core's inputs and results: what the doors receive and send (SPEC §3, §4).

camelCase on the wire, snake_case in Python. Results are built explicitly from query rows, never
from ORM objects leaving their session.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from flip_models.enums import ModelStatus, ProjectStatus, TrustIntersectStatus

MODEL_NAME_MAX = 75
MODEL_DESCRIPTION_MAX = 250


def storable_text(value: str) -> str:
    """Text PostgreSQL can store: no NUL character and valid Unicode (no lone surrogate)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def visible_text(value: str) -> str:
    """No Unicode format characters (category Cf: right-to-left overrides, zero-width spaces,
    isolates...): they make a name display as another one."""
    if any(unicodedata.category(character) == "Cf" for character in value):
        raise ValueError("must not contain invisible format characters (Unicode category Cf)")
    return value


ModelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MODEL_NAME_MAX),
    AfterValidator(storable_text),
    AfterValidator(visible_text),
]
ModelDescription = Annotated[
    str, StringConstraints(max_length=MODEL_DESCRIPTION_MAX), AfterValidator(storable_text)
]


class CamelModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields rejected.

    ``defer_build``: pydantic builds a model's validator and serializer on its first use, not when
    the class is declared, so a function's cold start builds the few shapes it uses, not all twenty.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


class ModelDetails(CamelModel):
    """Editable details of a model: name 1–75 characters after trimming, description 0–250."""

    name: ModelName
    description: ModelDescription = ""


class ModelStatusView(CamelModel):
    status: ModelStatus
    deleted: bool


class MetricPoint(CamelModel):
    x_value: float
    y_value: float


class MetricSeries(CamelModel):
    """One trust's points of a chart, sorted by x; ``totalPoints``: how many it has before any
    downsampling (``len(data)`` is smaller when it was downsampled)."""

    series_label: str
    data: list[MetricPoint]
    total_points: int


class ModelMetrics(CamelModel):
    """One chart: a (label, x_label) pair with one series per trust, points sorted by x."""

    y_label: str
    x_label: str
    metrics: list[MetricSeries] = Field(default_factory=list)


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


class ProjectQuery(CamelModel):
    """A project's cohort query (its latest ``queries`` row)."""

    id: uuid.UUID
    name: str
    query: str


class ModelFile(CamelModel):
    """A file uploaded for a model (``uploaded_files``)."""

    id: uuid.UUID
    name: str
    status: str
    size: float | None  #: FLIP's column is NOT NULL; kept optional for rows of older schemas
    type: str | None
    tag: str | None


class ModelDetail(CamelModel):
    """The model page (``GET /model/{modelId}``, ``POST /step/model/{modelId}``).

    ``query`` is the project's latest cohort query (null when it has none: the web app then keeps
    "Initiate training" off); stage dates are the latest audit row of that action, else null
    (``trainingStartedAt`` = ``runningAt``, for older web app versions); ``trusts`` is the roster of
    the newest run (``[]`` before one); ``queuePosition`` is 1-based, null when not queued.
    """

    model_id: uuid.UUID
    model_name: str
    model_description: str
    project_id: uuid.UUID
    status: ModelStatus
    query: ProjectQuery | None
    files: list[ModelFile]
    creation_timestamp: datetime
    prepared_at: datetime | None
    running_at: datetime | None
    training_started_at: datetime | None
    results_uploaded_at: datetime | None
    trusts: list[TrustSummary]
    queue_position: int | None


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
    log_date: datetime | None  #: None: a row another writer stored without a date (FLIP allows it)
    success: bool
    trust_name: str | None
    trust_code: str | None
    global_round: int | None
    log: str


class ModelSummary(CamelModel):
    """One row of ``GET /models``."""

    id: uuid.UUID
    name: str
    description: str
    status: ModelStatus
    project_id: uuid.UUID
    project_name: str
    owner_id: uuid.UUID
    owner_name: str | None
    creation_timestamp: datetime
    trusts: list[TrustSummary]
    queue_position: int | None


class ModelList(CamelModel):
    """A page of models; ``statusCounts`` has every status and ignores the status filter."""

    page: int
    page_size: int
    total_pages: int
    total_records: int
    data: list[ModelSummary]
    status_counts: dict[ModelStatus, int]


class ProjectSummary(CamelModel):
    """A project in the web app's project filter (``GET /models/projects``)."""

    id: uuid.UUID
    name: str
    status: ProjectStatus


TrustState = Literal["training", "returned", "dropped"]


class TrustProgress(CamelModel):
    """One roster trust in the current run: ``dropped`` after a failure with no result since,
    ``returned`` when its last result is for the current round, else ``training``."""

    id: uuid.UUID
    name: str
    code: str | None
    state: TrustState
    last_round: int | None
    last_event_at: datetime | None
    avg_round_seconds: float | None


class ModelProgress(CamelModel):
    """The round progress card (``GET /model/{modelId}/progress``, SPEC §3)."""

    current_round: int | None
    total_rounds: int | None
    started_at: datetime | None
    avg_round_seconds: float | None
    est_remaining_seconds: float | None
    trusts: list[TrustProgress]
