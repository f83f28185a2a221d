"""The error bodies of the HTTP API (SPEC §4): every 4xx/5xx answer has one of these shapes."""

from __future__ import annotations

from flip_models.core.schemas import CamelModel


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
