"""A model's logs as people read them (SPEC §4): a keyset page, oldest first, each row rendered."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from flip_models.core.rendering import render_log
from flip_models.core.schemas import LogEntry, LogsPage
from flip_models.errors import InvalidError
from flip_models.store.tables import FLLogs, Trust

LOGS_DEFAULT_LIMIT = 500
LOGS_MAX_LIMIT = 5000


def encode_log_cursor(log_date: datetime, log_id: uuid.UUID) -> str:
    """An opaque cursor: the (log_date, id) of the last row served, base64url without padding."""
    raw = json.dumps([log_date.isoformat(), str(log_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_log_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor stands for; anything else is an InvalidError on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        date_text, id_text = json.loads(raw)
        log_date = datetime.fromisoformat(date_text)
        log_id = uuid.UUID(id_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidError("cursor is not one this API returned", field="cursor") from None
    if log_date.tzinfo is None:
        raise InvalidError("cursor is not one this API returned", field="cursor")
    try:
        return log_date.astimezone(UTC), log_id
    except OverflowError:
        raise InvalidError("cursor is not one this API returned", field="cursor") from None


def get_logs_page(
    model_id: uuid.UUID, session: Session, *, limit: int = LOGS_DEFAULT_LIMIT, cursor: str | None = None
) -> LogsPage:
    """Up to ``limit`` log rows after ``cursor``, oldest first (keyset on ``(log_date, id)``)."""
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
        .order_by(FLLogs.log_date, FLLogs.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        after = decode_log_cursor(cursor)
        statement = statement.where(tuple_(FLLogs.log_date, FLLogs.id) > tuple_(*after))
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
    next_cursor = encode_log_cursor(page[-1].log_date, page[-1].id) if more else None
    return LogsPage(data=data, next_cursor=next_cursor)
