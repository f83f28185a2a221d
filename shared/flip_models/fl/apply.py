"""Applying a batch of FL logs or metrics in one transaction: one statement, then each message settled.

The batch's rows (:mod:`flip_models.fl.rows`) are attributed and inserted by one statement
(:mod:`flip_models.fl.attribution`); each message's outcome follows from what it found. When the
database refuses the batched insert, the batch is applied again with each row in a savepoint of its
own, so that only the refused rows are rejected. A database that is down or too slow makes every
message of the batch retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.fl.attribution import Attribution, BatchInsert
from flip_models.fl.messages import FLLogMessage, FLMetricMessage, truncate
from flip_models.fl.outcomes import (
    Applied,
    Item,
    M,
    Outcome,
    Rejected,
    RejectionKind,
    Retry,
    key_applied_before,
)
from flip_models.fl.rows import LOGS, METRICS, RowKind, attribution_rejection
from flip_models.observability import logger
from flip_models.store import db


class _BatchRefused(Exception):
    """The batch's multi-row insert was refused: its transaction is lost, the rows go one by one."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.table = table


@contextmanager
def _refusal_isolates(table: Table) -> Iterator[None]:
    """A batched statement the database refuses raises :class:`_BatchRefused` (the rows then go one
    by one); a transient failure passes on, for the caller's ``session_scope`` to translate."""
    try:
        yield
    except Exception as error:
        if isinstance(db.translate_db_error(error), db.DatabaseError):
            raise _BatchRefused(table.name) from error
        raise


def apply_in_one_transaction(
    items: Sequence[Item[M]], apply: Callable[[Sequence[Item[M]], Session, bool], dict[str, Outcome]]
) -> dict[str, Outcome]:
    """Run ``apply`` in one transaction; a database that is down or too slow retries every item.

    The happy path is one transaction without savepoints. When the database refuses the batched
    insert, that transaction is rolled back and the batch applied again in a new one, each row in
    a savepoint of its own (``isolate``), so only the refused rows are rejected.
    """
    try:
        try:
            with db.session_scope() as session:
                return apply(items, session, False)
        except _BatchRefused as refused:
            logger.warning("batched insert refused; isolating the rows", extra={"table": refused.table})
            with db.session_scope() as session:
                return apply(items, session, True)
    except (DatabaseUnavailableError, ConfigurationError) as error:
        return {item.message_id: Retry(error.message) for item in items}


def apply_logs(
    items: Sequence[Item[FLLogMessage]], session: Session, isolate: bool = False
) -> dict[str, Outcome]:
    """Insert the batch's log rows together; a failed text from an unattributable client is kept."""
    return _apply_rows(LOGS, items, session, isolate)


def apply_metrics(
    items: Sequence[Item[FLMetricMessage]], session: Session, isolate: bool = False
) -> dict[str, Outcome]:
    """Insert the batch's metric rows together; every metric needs a trust of the model."""
    return _apply_rows(METRICS, items, session, isolate)


Identity = tuple[uuid.UUID, str]


def _apply_rows(
    kind: RowKind[M], items: Sequence[Item[M]], session: Session, isolate: bool
) -> dict[str, Outcome]:
    """Apply the batch, each key's first message before the later ones with the same key (SPEC §5).

    Each round applies one message per key (:func:`_apply_distinct`: one statement on the happy
    path). A later message with the key of an applied one follows it: the same body is a
    redelivery, another body a reused key. A later message whose twin was *not* applied is judged
    on its own in the next round, so a second round happens only when a batch repeats the key of a
    message it rejected. With ``isolate`` (after the batch was refused: :class:`_BatchRefused`)
    every message goes alone, in a savepoint of its own.
    """
    outcomes: dict[str, Outcome] = {}
    pending = list(items)
    while pending:
        first: dict[Identity, Item[M]] = {}
        later: list[Item[M]] = []
        for item in pending:
            if item.identity in first:
                later.append(item)
            else:
                first[item.identity] = item
        applied = _apply_distinct(kind, list(first.values()), session, isolate, outcomes)
        pending = []
        for item in later:
            if item.identity in applied:
                outcomes[item.message_id] = key_applied_before(item, applied[item.identity])
            else:
                pending.append(item)
    return outcomes


def _apply_distinct(
    kind: RowKind[M],
    items: Sequence[Item[M]],
    session: Session,
    isolate: bool,
    outcomes: dict[str, Outcome],
) -> dict[Identity, str | None]:
    """Apply messages of distinct keys: inserted → applied; a key with a row already → redelivery or
    reused key (:func:`key_applied_before`); not attributable → rejected, or kept as its queue's fallback
    row. Writes each message's outcome into ``outcomes``; returns, for every key applied now or
    before, the digest of its row (what a later message with the key is compared with)."""
    found: dict[str, Attribution] = {}
    if isolate:
        for item in items:
            try:
                found[item.message_id] = _run_alone(kind.rows, kind.row_of(item), session)
            except db.DatabaseError as error:
                outcomes[item.message_id] = Rejected(
                    truncate(f"database refused the row: {error.message}"), RejectionKind.DATABASE_REJECTED
                )
    else:
        with _refusal_isolates(kind.rows.table):
            attributions = kind.rows.run([kind.row_of(item) for item in items], session.connection())
        found = {item.message_id: attribution for item, attribution in zip(items, attributions, strict=True)}
    applied: dict[Identity, str | None] = {}
    taken: list[Item[M]] = []  # keys that had a row: read its digest (a redelivery or a reused key)
    kept: list[tuple[Item[M], dict[str, Any]]] = []
    for item in items:
        attribution = found.get(item.message_id)
        if attribution is None:
            continue  # refused in isolation: already rejected
        rejected = attribution_rejection(item.message, attribution, kind.rows.hub_rows)  # type: ignore[arg-type]
        if rejected is None:
            if attribution.inserted:
                outcomes[item.message_id] = Applied()
                applied[item.identity] = item.digest
            else:
                taken.append(item)
            continue
        kept_row = kind.kept_row(item, rejected)
        if kept_row is None:
            outcomes[item.message_id] = rejected
        else:
            kept.append((item, kept_row))
    written, already = _insert_kept(kind.rows, kept, session, isolate, outcomes)
    for item in written:
        outcomes[item.message_id] = Applied()
        applied[item.identity] = item.digest
    taken.extend(already)
    if taken:
        stored = _stored_digests(kind.rows.key_table, [item.identity for item in taken], session)
        for item in taken:
            if item.identity in stored:
                outcomes[item.message_id] = key_applied_before(item, stored[item.identity])
                applied[item.identity] = stored[item.identity]
            else:  # cannot happen: rows are never deleted; try again rather than drop it
                outcomes[item.message_id] = Retry("the row of this message's key was not found; try again")
    return applied


def _run_alone(rows: BatchInsert, row: dict[str, Any], session: Session) -> Attribution:
    """One message's statement in a savepoint of its own (``session.connection()`` is called inside
    the savepoint: that call is what emits ``SAVEPOINT``)."""
    return _in_savepoint(session, lambda: rows.run([row], session.connection()))[0]


def _insert_kept(
    rows_of: BatchInsert,
    rows: Sequence[tuple[Item[M], dict[str, Any]]],
    session: Session,
    isolate: bool,
    outcomes: dict[str, Outcome],
) -> tuple[list[Item[M]], list[Item[M]]]:
    """Insert the kept rows, each unless its key has a row already: one statement,
    or, with ``isolate``, one per row in its own savepoint. Returns the items written now and those
    whose key had a row already; a row the database refuses is rejected (into ``outcomes``)."""
    if not rows:
        return [], []
    if isolate:
        inserted: set[Identity] = set()
        for item, row in rows:
            try:
                inserted |= _insert_alone(rows_of, row, session)
            except db.DatabaseError as error:
                outcomes[item.message_id] = Rejected(
                    truncate(f"database refused the row: {error.message}"), RejectionKind.DATABASE_REJECTED
                )
    else:
        with _refusal_isolates(rows_of.table):
            inserted = _insert(rows_of, [row for _, row in rows], session)
    settled = [item for item, _ in rows if item.message_id not in outcomes]
    return (
        [item for item in settled if item.identity in inserted],
        [item for item in settled if item.identity not in inserted],
    )


def _insert(rows_of: BatchInsert, rows: list[dict[str, Any]], session: Session) -> set[Identity]:
    """The (model, key) of the rows inserted now (:meth:`BatchInsert.insert_kept`)."""
    return rows_of.insert_kept(rows, session.connection())


def _insert_alone(rows_of: BatchInsert, row: dict[str, Any], session: Session) -> set[Identity]:
    return _in_savepoint(session, lambda: _insert(rows_of, [row], session))


def _stored_digests(table: Table, keys: Sequence[Identity], session: Session) -> dict[Identity, str | None]:
    """The digest of the row of each key that has one, read now (a statement of its own sees what
    a concurrent batch committed after this one's statement began)."""
    statement = select(table.c.model_id, table.c.message_id, table.c.message_digest).where(
        tuple_(table.c.model_id, table.c.message_id).in_(list(keys))
    )
    return {(model_id, key): digest for model_id, key, digest in session.connection().execute(statement)}


T = TypeVar("T")


def _in_savepoint(session: Session, work: Callable[[], T]) -> T:
    """Run ``work`` in a savepoint; on error undo it and raise the translated domain error.

    If undoing fails too, the connection is gone: that error escapes and the transaction is lost.
    """
    savepoint = session.begin_nested()
    try:
        result = work()
    except BaseException as error:
        savepoint.rollback()
        translated = db.translate_db_error(error)
        if translated is error:
            raise
        raise translated from error
    savepoint.commit()
    return result
