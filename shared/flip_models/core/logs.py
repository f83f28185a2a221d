"""A model's logs as people read them (SPEC §4): a keyset page, oldest first, each row rendered.

A page is sent as the JSON array the web app reads; it holds at most ``limit`` rows and ends early,
with a cursor to the next page, before its body reaches :data:`LOGS_PAGE_MAX_BYTES` as Lambda counts
it (escaped into the response's JSON, :mod:`flip_models.core.response_size`: Lambda answers at most
6 MB), however long the rows' texts are and whatever they hold.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from flip_models.core.rendering import render_log
from flip_models.core.response_size import escaped_size
from flip_models.core.schemas import LogEntry
from flip_models.errors import InvalidError
from flip_models.store.tables import FLLogs, Trust

LOGS_DEFAULT_LIMIT = 1000
LOGS_MAX_LIMIT = 5000
#: A page's JSON body, escaped into Lambda's response, ends before this many bytes (SPEC §4: the body
#: under 5 MB, the whole response under 6 MB; ~4 MB for a logs page).
LOGS_PAGE_MAX_BYTES = 4_000_000
#: Shown in place of the end of a text cut to fit a page on its own (a row of megabytes of text).
_CUT = " … [{rest} more characters not shown]"

_ENTRIES = TypeAdapter(list[LogEntry])
_ENTRY = TypeAdapter(LogEntry)


@dataclass(frozen=True)
class LogsPage:
    """One page: its rows as the JSON array the API sends, how many, and the next page's cursor
    (None on the last page)."""

    body: str
    rows: int
    next_cursor: str | None


def encode_log_cursor(log_date: datetime | None, log_id: uuid.UUID) -> str:
    """An opaque cursor: the (log_date, id) of the last row served, base64url without padding."""
    date_text = None if log_date is None else log_date.isoformat()
    raw = json.dumps([date_text, str(log_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_log_cursor(cursor: str) -> tuple[datetime | None, uuid.UUID]:
    """The position a cursor stands for; anything else is an InvalidError on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        date_text, id_text = json.loads(raw)
        log_id = uuid.UUID(id_text)
        if date_text is None:  # a row without a date
            return None, log_id
        log_date = datetime.fromisoformat(date_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidError("cursor is not one this API returned", field="cursor") from None
    if log_date.tzinfo is None:
        raise InvalidError("cursor is not one this API returned", field="cursor")
    try:
        return log_date.astimezone(UTC), log_id
    except OverflowError:
        raise InvalidError("cursor is not one this API returned", field="cursor") from None


def get_logs_page(
    model_id: uuid.UUID,
    session: Session,
    *,
    limit: int = LOGS_DEFAULT_LIMIT,
    cursor: str | None = None,
    max_bytes: int = LOGS_PAGE_MAX_BYTES,
) -> LogsPage:
    """Up to ``limit`` log rows after ``cursor``, oldest first (keyset on ``(log_date, id)``), as a
    JSON array of at most ``max_bytes`` once escaped into Lambda's response (at least one row: one
    that does not fit on its own is sent with its texts cut).

    A row without a date (FLIP's ``log_date`` is nullable; other writers store such rows) comes
    first, as the oldest: the service's index orders ``log_date`` with NULLs first.
    """
    if not 1 <= limit <= LOGS_MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {LOGS_MAX_LIMIT}", field="limit")
    statement = (
        select(
            FLLogs.id,
            FLLogs.model_id,
            FLLogs.log_date,
            FLLogs.success,
            Trust.name,
            Trust.code,
            FLLogs.global_round,
            FLLogs.log,
            FLLogs.event_type,
            FLLogs.details,
        )
        .outerjoin(Trust, Trust.id == FLLogs.trust)
        .where(FLLogs.model_id == model_id)
        .order_by(FLLogs.log_date.asc().nulls_first(), FLLogs.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        after_date, after_id = decode_log_cursor(cursor)
        if after_date is None:
            statement = statement.where(
                or_(and_(FLLogs.log_date.is_(None), FLLogs.id > after_id), FLLogs.log_date.is_not(None))
            )
        else:
            statement = statement.where(tuple_(FLLogs.log_date, FLLogs.id) > tuple_(after_date, after_id))
    # A Core query on the session's connection: plain column rows, no ORM loading machinery.
    rows = session.connection().execute(statement).all()
    page, more = rows[:limit], len(rows) > limit
    # The values come typed from our own columns (UUID, timestamptz, bool, text, int): the entries
    # are constructed without validating them again, which was most of a page's Python time.
    data = [
        LogEntry.model_construct(
            id=log_id,
            model_id=log_model_id,
            log_date=log_date,
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
        ) in page
    ]
    body = _ENTRIES.dump_json(data, by_alias=True)
    if escaped_size(body) > max_bytes:
        body, kept = _within(data, max_bytes)
        page, more = page[:kept], more or kept < len(page)
    next_cursor = encode_log_cursor(page[-1].log_date, page[-1].id) if more else None
    return LogsPage(body=body.decode(), rows=len(page), next_cursor=next_cursor)


def _within(entries: list[Any], max_bytes: int) -> tuple[bytes, int]:
    """The longest leading run of ``entries`` whose JSON array, escaped into Lambda's response, fits
    in ``max_bytes`` (at least one entry), and how many entries that is. Only pages of very long
    texts come here; a first entry too long on its own comes with its texts cut (:func:`_cut`)."""
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
    return b"[" + b",".join(parts) + b"]", len(parts)


def _cut(entry: LogEntry, max_bytes: int) -> LogEntry:
    """``entry`` with each of its texts (log, trust name and code: other writers of FLIP's tables
    store any length) cut to fit, with the three together, in ``max_bytes`` less 2 KB for the rest of
    the row and the notes of the cut, whatever their characters: escaped into Lambda's response, a
    character takes at most 12 bytes (an astral one, as ``\\ud83d\\ude00``)."""
    keep = max(0, (max_bytes - 2048) // (3 * 12))
    cut = {
        name: text[:keep] + _CUT.format(rest=len(text) - keep)
        for name in ("log", "trust_name", "trust_code")
        if isinstance(text := getattr(entry, name), str) and len(text) > keep
    }
    return entry.model_copy(update=cut)
