"""Where a reader stands in a model's logs feed (SPEC §4): the opaque cursor and the stored times in it.

A cursor holds a row's ``log_date`` exactly as PostgreSQL stores it (as text, so NULL, ±infinity, BC
dates and years past 9999 round-trip), the row's id and the direction to read; a forged one is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from flip_models.errors import InvalidError

#: A timestamp as PostgreSQL writes it as text (DateStyle ISO): ``-infinity``/``infinity``, or a date
#: and time of any year it holds (BC included), with the offset of a ``timestamptz`` (always UTC's:
#: the sessions run in UTC). An earlier cursor's ISO form (``T``, ``+00:00``) is read too.
_STORED_TIME = re.compile(
    r"(-?infinity)|(\d{4,6})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
    r"(\+00(?::?00)?)?( BC)?"
)
#: The last year PostgreSQL's timestamps hold.
_LAST_YEAR = 294_276


def stored_time(stored: str | None) -> datetime | None:
    """A stored ``log_date`` (as text) as Python can hold it, in UTC; None for NULL and for what a
    ``datetime`` cannot hold (±infinity, a BC date, a year after 9999), which FLIP's column allows."""
    if stored is None:
        return None
    match = _STORED_TIME.fullmatch(stored)
    if match is None or match.group(1) or match.group(10) or len(match.group(2)) > 4:
        return None
    parsed = datetime.fromisoformat(stored.replace(" ", "T", 1))
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


#: The position before every row: a forward cursor from it reads the feed from its start.
START: Final = (None, uuid.UUID(int=0))


@dataclass(frozen=True)
class LogCursor:
    """A position in the feed and the direction to read from it: ``after`` (newer rows) or
    ``before`` (older rows). ``stored`` is the row's ``log_date`` exactly as stored (text)."""

    direction: Literal["after", "before"]
    stored: str | None
    row_id: uuid.UUID


def encode_log_cursor(cursor: LogCursor) -> str:
    """An opaque cursor, base64url without padding: the date as stored (text, so any value
    round-trips: NULL, ±infinity, BC, year 20000), the row id and the direction."""
    raw = json.dumps([cursor.stored, str(cursor.row_id), cursor.direction], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_log_cursor(cursor: str) -> LogCursor:
    """The position a cursor stands for; anything else is an InvalidError on ``cursor``. A cursor
    of two parts (issued before the feed read both ways) reads newer rows."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) not in (2, 3):
            raise TypeError(parts)
        stored, id_text, *rest = parts
        direction: Literal["after", "before"] = "before" if rest == ["before"] else "after"
        if not isinstance(id_text, str) or rest not in ([], ["after"], ["before"]):
            raise TypeError(id_text)
        row_id = uuid.UUID(id_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidError("cursor is not one this API returned", field="cursor") from None
    if stored is not None and not (isinstance(stored, str) and _valid_stored_time(stored)):
        raise InvalidError("cursor is not one this API returned", field="cursor")
    return LogCursor(direction, stored, row_id)
