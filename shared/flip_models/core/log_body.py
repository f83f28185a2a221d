"""A logs page's JSON body, within the response budget whatever its rows' texts hold: the rows
rendered, and when the page would pass the budget (escaped into Lambda's response,
:mod:`flip_models.core.response_size`), the longest run of them that fits, the oldest or the newest
kept; a single row too long on its own comes with its texts cut."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from flip_models.core.log_cursor import stored_time
from flip_models.core.rendering import render_log
from flip_models.core.response_size import MAX_BYTES_PER_CHARACTER, cut_text, escaped_size
from flip_models.core.schemas import LogEntry

_ENTRIES = TypeAdapter(list[LogEntry])
_ENTRY = TypeAdapter(LogEntry)


def page_body(page: list[Any], max_bytes: int, *, keep_newest: bool) -> tuple[str, int]:
    """The JSON array of the page's rows (rendered), cut to ``max_bytes``: its oldest rows kept, or
    with ``keep_newest`` its newest; and how many rows it holds."""
    data = [
        LogEntry.model_construct(
            id=log_id,
            model_id=log_model_id,
            log_date=stored_time(log_date),
            success=success,
            trust_name=trust_name,
            trust_code=trust_code,
            global_round=global_round,
            log=render_log(log, event_type, global_round, details),
        )
        for (
            log_id,
            log_model_id,
            log_date,
            success,
            trust_name,
            trust_code,
            global_round,
            log,
            event_type,
            details,
            _settled,
        ) in page
    ]
    body = _ENTRIES.dump_json(data, by_alias=True)
    if escaped_size(body) <= max_bytes:
        return body.decode(), len(data)
    parts = _within(data[::-1] if keep_newest else data, max_bytes)
    if keep_newest:
        parts.reverse()
    return (b"[" + b",".join(parts) + b"]").decode(), len(parts)


def _within(entries: list[Any], max_bytes: int) -> list[bytes]:
    """The JSON of the longest leading run of ``entries`` whose array, escaped into Lambda's
    response, fits in ``max_bytes`` (at least one entry). Only pages of very long texts come here; a
    first entry too long on its own comes with its texts cut (:func:`_cut`)."""
    parts: list[bytes] = []
    size = 2  # the brackets
    for entry in entries:
        part = _ENTRY.dump_json(entry, by_alias=True)
        cost = escaped_size(part) + 1  # and a comma
        if size + cost > max_bytes:
            if parts:
                break
            part = _ENTRY.dump_json(_cut(entry, max_bytes), by_alias=True)
            cost = escaped_size(part) + 1
        parts.append(part)
        size += cost
    return parts


def _cut(entry: LogEntry, max_bytes: int) -> LogEntry:
    """``entry`` with each of its texts (log, trust name and code: other writers of FLIP's tables
    store any length) cut to fit, with the three together, in ``max_bytes`` less 2 KB for the rest of
    the row and the notes of the cut, whatever their characters: escaped into Lambda's response, a
    character takes at most 12 bytes (an astral one, as ``\\ud83d\\ude00``)."""
    keep = max(0, (max_bytes - 2048) // (3 * MAX_BYTES_PER_CHARACTER))
    cut = {
        name: cut_text(text, keep)
        for name in ("log", "trust_name", "trust_code")
        if isinstance(text := getattr(entry, name), str)
    }
    return entry.model_copy(update=cut)
