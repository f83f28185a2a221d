"""Rendering of ``fl_logs`` rows for people (SPEC §3): typed round events become a readable line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from flip_models.enums import FLLogEvent

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_size(size_bytes: float) -> str:
    """1024-based size: whole bytes below 1 KB, otherwise one decimal (``2.3 MB``), capped at TB."""
    if size_bytes < 1024:
        return f"{size_bytes:.0f} B"
    value = float(size_bytes)
    unit = 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.1f} {_SIZE_UNITS[unit]}"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_size(value: object) -> TypeGuard[float]:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def render_log(
    log: str | None,
    event_type: str | None = None,
    global_round: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> str:
    """The text a person reads for one log row; never raises.

    Free text is returned verbatim; a typed event is rendered from its round and details; a row with
    neither renders as an empty string.
    """
    if log is not None:
        return log
    if not event_type:
        return ""
    info: Mapping[str, Any] = details if isinstance(details, Mapping) else {}
    prefix = f"Round {global_round}" if global_round is not None else None

    if event_type == FLLogEvent.QUEUE_POSITION:
        position = info.get("position")
        return f"Model Queued ({position})" if _is_int(position) and position >= 1 else "Model Queued"
    if prefix is None:
        return event_type
    if event_type == FLLogEvent.ROUND_STARTED:
        return f"{prefix} initiated · global model dispatched"
    if event_type == FLLogEvent.CLIENT_RESULT_RECEIVED:
        size = info.get("size_bytes")
        if _is_finite_size(size):
            return f"{prefix} weights uploaded · {format_size(size)}"
        return f"{prefix} results returned"
    if event_type == FLLogEvent.ROUND_AGGREGATED:
        returned, expected = info.get("returned"), info.get("expected")
        if _is_int(returned) and _is_int(expected):
            return f"{prefix} aggregated · {returned} of {expected} trusts returned"
        return f"{prefix} aggregated"
    return f"{prefix} · {event_type}"
