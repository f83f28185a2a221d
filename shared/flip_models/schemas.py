"""Pydantic models of the service package's inputs and results (the edge-facing shapes).

Field names follow SPEC §3/§4 in camelCase on the wire; Python code uses snake_case names.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from flip_models.enums import ModelStatus

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


ModelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MODEL_NAME_MAX),
    AfterValidator(storable_text),
]
ModelDescription = Annotated[
    str, StringConstraints(max_length=MODEL_DESCRIPTION_MAX), AfterValidator(storable_text)
]


class CamelModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


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
    series_label: str
    data: list[MetricPoint]


class ModelMetrics(CamelModel):
    """One chart: a (label, x_label) pair with one series per trust, points sorted by x."""

    y_label: str
    x_label: str
    metrics: list[MetricSeries] = Field(default_factory=list)
