"""A model's logs as people read them (SPEC §4): a keyset page, oldest first, each row rendered.

A page is sent as the JSON array the web app reads; it holds at most ``limit`` rows and ends early,
with a cursor to the next page, before its body reaches :data:`LOGS_PAGE_MAX_BYTES` (Lambda answers
at most 6 MB), however long the rows' texts are.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Text, and_, cast, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from flip_models.core.rendering import render_log
from flip_models.core.schemas import LogEntry
from flip_models.errors import InvalidError
from flip_models.store.tables import FLLogs, Trust

LOGS_DEFAULT_LIMIT = 1000
LOGS_MAX_LIMIT = 5000
#: A page's JSON body ends before this many bytes (SPEC §4: under 5 MB, ~4 MB for a logs page).
LOGS_PAGE_MAX_BYTES = 4_000_000

_ENTRIES = TypeAdapter(list[LogEntry])
_ENTRY = TypeAdapter(LogEntry)


@dataclass(frozen=True)
class LogsPage:
    """One page: its rows as the JSON array the API sends, how many, and the next page's cursor
    (None on the last page)."""

    body: str
    rows: int
    next_cursor: str | None


#: A timestamp as PostgreSQL writes it as text (DateStyle ISO): ``-infinity``/``infinity``, or a date
#: and time of any year it holds (BC included), with the offset of a ``timestamptz`` (always UTC's:
#: the sessions run in UTC). An earlier cursor's ISO form (``T``, ``+00:00``) is read too.
_STORED_TIME = re.compile(
    r"(-?infinity)|(\d{4,6})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
    r"(\+00(?::?00)?)?( BC)?"
)
#: The last year PostgreSQL's timestamps hold.
_LAST_YEAR = 294_276


def stored_time(text: str | None) -> datetime | None:
    """A stored ``log_date`` (as text) as Python can hold it, in UTC; None for NULL and for what a
    ``datetime`` cannot hold (±infinity, a BC date, a year after 9999), which FLIP's column allows."""
    if text is None:
        return None
    match = _STORED_TIME.fullmatch(text)
    if match is None or match.group(1) or match.group(10) or len(match.group(2)) > 4:
        return None
    parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _valid_stored_time(text: str) -> bool:
    """Whether ``text`` is a time PostgreSQL would read back (checked before it reaches SQL, so a
    forged cursor is a 400, never a database error)."""
    match = _STORED_TIME.fullmatch(text)
    if match is None:
        return False
    if match.group(1):
        return True
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(2, 8))
    if not 1 <= year <= _LAST_YEAR:
        return False
    try:  # the same calendar in a year Python holds (leap years every 400 years alike)
        datetime(2000 + year % 400, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def encode_log_cursor(stored: str | None, log_id: uuid.UUID) -> str:
    """An opaque cursor: the (log_date, id) of the last row served, the date exactly as stored (text,
    so any value round-trips: NULL, ±infinity, BC, year 20000), base64url without padding."""
    raw = json.dumps([stored, str(log_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_log_cursor(cursor: str) -> tuple[str | None, uuid.UUID]:
    """The position a cursor stands for; anything else is an InvalidError on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stored, id_text = json.loads(raw)
        if not isinstance(id_text, str):
            raise TypeError(id_text)
        log_id = uuid.UUID(id_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidError("cursor is not one this API returned", field="cursor") from None
    if stored is not None and not (isinstance(stored, str) and _valid_stored_time(stored)):
        raise InvalidError("cursor is not one this API returned", field="cursor")
    return stored, log_id


def get_logs_page(
    model_id: uuid.UUID,
    session: Session,
    *,
    limit: int = LOGS_DEFAULT_LIMIT,
    cursor: str | None = None,
    max_bytes: int = LOGS_PAGE_MAX_BYTES,
) -> LogsPage:
    """Up to ``limit`` log rows after ``cursor``, oldest first (keyset on ``(log_date, id)``), as a
    JSON array of at most ``max_bytes`` (at least one row, whatever its size).

    A row without a date (FLIP's ``log_date`` is nullable; other writers store such rows) comes
    first, as the oldest: the service's index orders ``log_date`` with NULLs first.
    """
    if not 1 <= limit <= LOGS_MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {LOGS_MAX_LIMIT}", field="limit")
    statement = (
        select(
            FLLogs.id,
            FLLogs.model_id,
            cast(FLLogs.log_date, Text).label("log_date"),  # as stored: every value reads and round-trips
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
            after = cast(literal(after_date, Text), FLLogs.log_date.type)
            statement = statement.where(tuple_(FLLogs.log_date, FLLogs.id) > tuple_(after, after_id))
    # A Core query on the session's connection: plain column rows, no ORM loading machinery.
    rows = session.connection().execute(statement).all()
    page, more = rows[:limit], len(rows) > limit
    # The values come typed from our own columns (UUID, timestamptz, bool, text, int): the entries
    # are constructed without validating them again, which was most of a page's Python time.
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
        ) in page
    ]
    body = _ENTRIES.dump_json(data, by_alias=True)
    if len(body) > max_bytes:
        body, kept = _within(data, max_bytes)
        page, more = page[:kept], True
    next_cursor = encode_log_cursor(page[-1].log_date, page[-1].id) if more else None
    return LogsPage(body=body.decode(), rows=len(page), next_cursor=next_cursor)


def _within(entries: list[Any], max_bytes: int) -> tuple[bytes, int]:
    """The longest leading run of ``entries`` whose JSON array fits in ``max_bytes`` (at least one
    entry), and how many entries that is. Only pages of very long texts come here."""
    parts: list[bytes] = []
    size = 2  # the brackets
    for entry in entries:
        part = _ENTRY.dump_json(entry, by_alias=True)
        if parts and size + len(part) + 1 > max_bytes:
            break
        parts.append(part)
        size += len(part) + 1
    return b"[" + b",".join(parts) + b"]", len(parts)
