"""A request's end: the status and FLIP's body ``{"detail": ...}`` every ingress step may answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flip_models.fl.messages import truncate


class IngressAnswer(Exception):
    """A request ends here with ``status`` and FLIP's body ``{"detail": detail}``."""

    def __init__(self, status: HTTPStatus, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def invalid(*issues: tuple[Sequence[str | int], str, str]) -> IngressAnswer:
    """A 422 in FastAPI's shape: ``{"detail": [{"type", "loc", "msg"}]}`` (never the input)."""
    detail = [{"type": kind, "loc": list(loc), "msg": truncate(msg, 200)} for loc, msg, kind in issues]
    return IngressAnswer(HTTPStatus.UNPROCESSABLE_ENTITY, detail)
