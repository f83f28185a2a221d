"""Rendering of ``fl_logs`` rows for people (SPEC §3): typed round events become a readable line.

Rendering never fails: ``details`` is whatever the row holds (other FLIP services write this table
too), so every value is checked before it is used, and a value that does not fit falls back to the
plain form of its event. What the database driver hands over is decoded tolerantly as well
(:func:`flip_models.store.db.decode_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from flip_models.enums import FLLogEvent

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")
#: Counts and rounds are shown only in this range (a bigint's): a person reads them, and Python
#: refuses to print an integer of more than 4,300 digits.
_SHOWN_INT_LIMIT: Final = 2**63


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


def _is_shown_int(value: object) -> TypeGuard[int]:
    """An integer (not a bool) small enough to show."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -_SHOWN_INT_LIMIT < value < _SHOWN_INT_LIMIT
    )


def _size(value: object) -> float | None:
    """``size_bytes`` as a finite, non-negative float, or None when it is not one (a 400-digit
    integer does not fit a float; a bool, a string or a list is no size)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        size = float(value)
    except OverflowError:
        return None
    return size if 0 <= size < float("inf") else None  # NaN fails both comparisons


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _render_waiting_for_resources(info: Mapping[str, Any]) -> str:
    """NVFLARE's scheduler could not place the job on a site (FLIP#1390, flip-utils'
    ``JobSchedulingReporter``): one row per site that fell short, round-less, with
    ``{attempt, max_attempts, final, requested}``; ``requested`` holds NVFLARE's resource keys
    (``num_of_gpus``, ``mem_per_gpu_in_GiB``). FLIP's hub has no wording for it (it would show
    "Round None · JOB_WAITING_FOR_RESOURCES"); the UI shows the site's trust beside the row.
    Each part is shown only when its value can be, so an odd row still renders its first words.
    """
    parts = ["Not scheduled · no resources" if info.get("final") is True else "Waiting for resources"]
    attempt, max_attempts = info.get("attempt"), info.get("max_attempts")
    if _is_shown_int(attempt) and attempt >= 1:
        shown_max = _is_shown_int(max_attempts) and max_attempts >= attempt
        parts.append(f"attempt {attempt} of {max_attempts}" if shown_max else f"attempt {attempt}")
    requested = info.get("requested")
    if isinstance(requested, Mapping):
        asked = []
        gpus, memory = requested.get("num_of_gpus"), requested.get("mem_per_gpu_in_GiB")
        if _is_shown_int(gpus) and gpus >= 0:
            asked.append(_plural(gpus, "GPU"))
        if _is_shown_int(memory) and memory > 0:
            asked.append(f"{memory} GiB per GPU")
        if asked:
            parts.append("needs " + ", ".join(asked))
    return " · ".join(parts)


def render_log(
    log: str | None,
    event_type: str | None = None,
    global_round: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> str:
    """The text a person reads for one log row; never raises, whatever ``details`` holds.

    Free text is returned verbatim; a typed event is rendered from its round and details; a row with
    neither renders as an empty string. A round that cannot be shown renders as a round-less event
    (its name), except the two events that are round-less by design (queue position, waiting for
    resources), which have their own wording.
    """
    if log is not None:
        return log
    if not event_type:
        return ""
    info: Mapping[str, Any] = details if isinstance(details, Mapping) else {}
    prefix = f"Round {global_round}" if _is_shown_int(global_round) else None

    if event_type == FLLogEvent.QUEUE_POSITION:
        position = info.get("position")
        return f"Model Queued ({position})" if _is_shown_int(position) and position >= 1 else "Model Queued"
    if event_type == FLLogEvent.JOB_WAITING_FOR_RESOURCES:
        return _render_waiting_for_resources(info)
    if prefix is None:
        return event_type
    if event_type == FLLogEvent.ROUND_STARTED:
        return f"{prefix} initiated · global model dispatched"
    if event_type == FLLogEvent.CLIENT_RESULT_RECEIVED:
        size = _size(info.get("size_bytes"))
        if size is not None:
            return f"{prefix} weights uploaded · {format_size(size)}"
        return f"{prefix} results returned"
    if event_type == FLLogEvent.ROUND_AGGREGATED:
        returned, expected = info.get("returned"), info.get("expected")
        if _is_shown_int(returned) and _is_shown_int(expected):
            return f"{prefix} aggregated · {returned} of {expected} trusts returned"
        return f"{prefix} aggregated"
    return f"{prefix} · {event_type}"
