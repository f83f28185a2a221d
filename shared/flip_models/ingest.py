"""Applying one SQS batch of FL server messages (SPEC §5): once each, or dead-lettered with a reason.

A batch goes through three steps:

1. **parse** every record with its queue's record model (pydantic; the body is JSON). A body that
   breaks a rule is *rejected*.
2. **apply** the valid ones in one transaction: one statement (:mod:`flip_models.attribution`)
   resolves every message's model and FL client slot and inserts the attributable logs or metrics
   with ``ON CONFLICT (message_id) DO NOTHING``; the rules for the others (reject, or keep a failed
   client's text) are applied here. Status messages go one by one, in order, through
   ``service.update_model_status`` (each in its own short transaction, with its idempotency row in
   ``fl_status_message``). A row the database refuses is isolated one by one and rejected; a database
   that is down or too slow makes the records *retry*.
3. **settle** each record under Powertools' batch processor (the FIFO one for status messages, so that
   nothing after a failed message of a batch is acknowledged): applied → acknowledged, rejected → sent
   to ``DEAD_LETTER_QUEUE_URL`` with ``rejection_reason`` and acknowledged, retry → reported in
   ``batchItemFailures`` so SQS delivers it again after the visibility timeout.

The idempotency key is the message's ``event_id`` when it has one, else the SQS ``messageId``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from flip_models import db
from flip_models.attribution import LOG_ROWS, METRIC_ROWS, Attribution, BatchInsert
from flip_models.dead_letters import DeadLetter, send_dead_letter
from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.fl_messages import (
    FLLogMessage,
    FLLogRecord,
    FLMessage,
    FLMetricMessage,
    FLMetricRecord,
    FLRecord,
    FLStatusMessage,
    FLStatusRecord,
    rejection_reason,
    truncate,
)
from flip_models.observability import logger, metrics
from flip_models.service import update_model_status
from flip_models.settings import get_settings
from flip_models.tables import Model, ReceivedStatusMessage

M = TypeVar("M", FLLogMessage, FLMetricMessage, FLStatusMessage)

#: Prefix of a failed free-text log whose client is not attributable to the model (SPEC §5).
UNATTRIBUTED_PREFIX = "[unattributed client '{name}'] "


class RejectionKind(StrEnum):
    """Why a message went to the dead-letter queue (the metric dimension ``reason``)."""

    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_MODEL = "unknown_model"
    UNKNOWN_FL_CLIENT = "unknown_fl_client"
    TRUST_NOT_IN_MODEL = "trust_not_in_model"
    DATABASE_REJECTED = "database_rejected"


@dataclass(frozen=True)
class Applied:
    """Written now, or already written by an earlier delivery (``duplicate``)."""

    duplicate: bool = False


@dataclass(frozen=True)
class Rejected:
    """A permanent failure: dead-lettered with ``reason`` and acknowledged."""

    reason: str
    kind: RejectionKind


@dataclass(frozen=True)
class Retry:
    """A transient failure: reported in ``batchItemFailures``."""

    reason: str


Outcome = Applied | Rejected | Retry


@dataclass(frozen=True)
class Item(Generic[M]):
    """A valid message of the batch with what its application needs from the SQS record."""

    message_id: str
    message: M
    sent_at: datetime

    @property
    def key(self) -> str:
        """The idempotency key: ``event_id`` when given, else the SQS message id."""
        return self.message.event_id or self.message_id


class _Reject(Exception):
    """Raised inside a status message's transaction to undo its partial writes and reject it."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.reason)
        self.rejected = rejected


# --- 1. parse --------------------------------------------------------------------------------------


def parse_records(
    records: Iterable[Mapping[str, Any]], record_model: type[FLRecord]
) -> tuple[list[Item[Any]], dict[str, Outcome]]:
    """Valid items in batch order, and a rejection for every record whose body breaks a rule."""
    items: list[Item[Any]] = []
    rejected: dict[str, Outcome] = {}
    for raw in records:
        try:
            record = record_model.model_validate(raw)
        except ValidationError as error:
            rejected[str(raw.get("messageId"))] = Rejected(
                rejection_reason(error), RejectionKind.INVALID_MESSAGE
            )
            continue
        message: FLMessage = record.body
        items.append(
            Item(
                message_id=record.messageId,
                message=message,
                sent_at=record.attributes.SentTimestamp.astimezone(UTC),
            )
        )
    return items, rejected


# --- 2. apply --------------------------------------------------------------------------------------


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


def _model_ids(model_ids: Iterable[uuid.UUID], session: Session) -> set[uuid.UUID]:
    """The models of the batch that exist, in one (Core) query."""
    rows = session.connection().execute(select(Model.id).where(Model.id.in_(set(model_ids))))
    return set(rows.scalars())


def attribution_rejection(
    message: FLLogMessage | FLMetricMessage, found: Attribution, hub_rows: bool
) -> Rejected | None:
    """Why a message cannot be attributed to its model and FL client's trust, or None when it can."""
    if not found.model_found:
        return Rejected(f"model_id: unknown model {message.model_id}", RejectionKind.UNKNOWN_MODEL)
    name = message.fl_client_name
    if name is None:
        return None if hub_rows else Rejected("fl_client_name: required", RejectionKind.INVALID_MESSAGE)
    if not found.client_resolved:
        return Rejected(
            truncate(f"fl_client_name: FL client {name!r} resolves to no trust"),
            RejectionKind.UNKNOWN_FL_CLIENT,
        )
    if not found.trust_in_model:
        return Rejected(
            truncate(
                f"fl_client_name: the trust of FL client {name!r} "
                f"is not associated with model {message.model_id}"
            ),
            RejectionKind.TRUST_NOT_IN_MODEL,
        )
    return None


@dataclass(frozen=True)
class _RowKind(Generic[M]):
    """How one queue's messages become rows: the batch statement, each message's JSON-ready row, and
    the row kept for a message that cannot be attributed (None: it is rejected)."""

    rows: BatchInsert
    row_of: Callable[[Item[M]], dict[str, Any]]
    kept_row: Callable[[Item[M], Rejected], dict[str, Any] | None]


def _log_row(item: Item[FLLogMessage]) -> dict[str, Any]:
    message = item.message
    return {
        "model_id": str(message.model_id),
        "fl_client_name": message.fl_client_name,
        "log_date": item.sent_at.isoformat(),
        "success": message.success,
        "log": message.log,
        "event_type": message.event_type,
        "global_round": message.global_round,
        "details": message.details,
        "message_id": item.key,
    }


def _unattributed_log(item: Item[FLLogMessage], rejected: Rejected) -> dict[str, Any] | None:
    """A failed client's text is kept as a model-level row even when the client is unattributable:
    the user must see the error (SPEC §5). Anything else from such a client is rejected."""
    message = item.message
    unattributable = rejected.kind in (RejectionKind.UNKNOWN_FL_CLIENT, RejectionKind.TRUST_NOT_IN_MODEL)
    if not (unattributable and message.log is not None and not message.success):
        return None
    return {
        "model_id": message.model_id,
        "log_date": item.sent_at,
        "success": message.success,
        "trust": None,
        "fl_client_name": message.fl_client_name,
        "log": UNATTRIBUTED_PREFIX.format(name=message.fl_client_name) + message.log,
        "event_type": message.event_type,
        "global_round": message.global_round,
        "details": message.details,
        "message_id": item.key,
    }


def _metric_row(item: Item[FLMetricMessage]) -> dict[str, Any]:
    message = item.message
    return {
        "model_id": str(message.model_id),
        "fl_client_name": message.fl_client_name,
        "global_round": message.global_round,
        "label": message.label,
        "result": message.result,
        "x_label": message.x_label,
        "x_value": message.x_value,
        "timestamp": item.sent_at.isoformat(),
        "message_id": item.key,
    }


def _never_kept(_item: Item[FLMetricMessage], _rejected: Rejected) -> None:
    return None


_LOGS: _RowKind[FLLogMessage] = _RowKind(LOG_ROWS, _log_row, _unattributed_log)
_METRICS: _RowKind[FLMetricMessage] = _RowKind(METRIC_ROWS, _metric_row, _never_kept)


def apply_logs(
    items: Sequence[Item[FLLogMessage]], session: Session, isolate: bool = False
) -> dict[str, Outcome]:
    """Insert the batch's log rows together; a failed text from an unattributable client is kept."""
    return _apply_rows(_LOGS, items, session, isolate)


def apply_metrics(
    items: Sequence[Item[FLMetricMessage]], session: Session, isolate: bool = False
) -> dict[str, Outcome]:
    """Insert the batch's metric rows together; every metric needs a trust of the model."""
    return _apply_rows(_METRICS, items, session, isolate)


def _apply_rows(
    kind: _RowKind[M], items: Sequence[Item[M]], session: Session, isolate: bool
) -> dict[str, Outcome]:
    """Attribute and insert the batch in one statement (:mod:`flip_models.attribution`), then settle
    each message: inserted → applied; attributable but not inserted → duplicate; otherwise rejected,
    or kept as its queue's fallback row. With ``isolate`` (after the batch was refused:
    :class:`_BatchRefused`) every message goes alone, in a savepoint of its own."""
    outcomes: dict[str, Outcome] = {}
    unique: dict[str, Item[M]] = {}
    for item in items:
        if item.key in unique:
            outcomes[item.message_id] = Applied(duplicate=True)  # the same key twice in one batch
        else:
            unique[item.key] = item
    found: dict[str, Attribution] = {}
    if isolate:
        for item in unique.values():
            try:
                found[item.message_id] = _run_alone(kind.rows, kind.row_of(item), session)
            except db.DatabaseError as error:
                outcomes[item.message_id] = Rejected(
                    truncate(f"database refused the row: {error.message}"), RejectionKind.DATABASE_REJECTED
                )
    else:
        batch = list(unique.values())
        with _refusal_isolates(kind.rows.table):
            attributions = kind.rows.run([kind.row_of(item) for item in batch], session.connection())
        found = {item.message_id: attribution for item, attribution in zip(batch, attributions, strict=True)}
    kept: list[tuple[Item[Any], dict[str, Any]]] = []
    for item in unique.values():
        attribution = found.get(item.message_id)
        if attribution is None:
            continue  # refused in isolation: already rejected
        rejected = attribution_rejection(item.message, attribution, kind.rows.hub_rows)  # type: ignore[arg-type]
        if rejected is None:
            outcomes[item.message_id] = Applied(duplicate=not attribution.inserted)
            continue
        kept_row = kind.kept_row(item, rejected)
        if kept_row is None:
            outcomes[item.message_id] = rejected
        else:
            kept.append((item, kept_row))
    outcomes.update(_insert_rows(kind.rows.table, kept, session, isolate))
    return outcomes


def _run_alone(rows: BatchInsert, row: dict[str, Any], session: Session) -> Attribution:
    """One message's statement in a savepoint of its own (``session.connection()`` is called inside
    the savepoint: that call is what emits ``SAVEPOINT``)."""
    return _in_savepoint(session, lambda: rows.run([row], session.connection()))[0]


def _insert_rows(
    table: Table, rows: Sequence[tuple[Item[Any], dict[str, Any]]], session: Session, isolate: bool
) -> dict[str, Outcome]:
    """One ``INSERT … ON CONFLICT (message_id) DO NOTHING`` for all rows, or, with ``isolate``, one
    per row in its own savepoint (after the batched insert was refused: :class:`_BatchRefused`)."""
    outcomes: dict[str, Outcome] = {}
    if not rows:
        return outcomes
    if isolate:
        for item, row in rows:
            outcomes[item.message_id] = _insert_one(table, row, session)
        return outcomes
    with _refusal_isolates(table):
        inserted = _insert(table, [row for _, row in rows], session)
    for item, _ in rows:
        outcomes[item.message_id] = Applied(duplicate=item.key not in inserted)
    return outcomes


def _insert(table: Table, rows: list[dict[str, Any]], session: Session) -> set[str]:
    """The message ids inserted now. The rows go as executemany parameters: SQLAlchemy sends them
    as one multi-row ``INSERT … RETURNING`` (insertmanyvalues) from a statement compiled once per
    table, where ``.values(rows)`` would compile a new statement for every batch."""
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=["message_id"]).returning(table.c.message_id)
    )
    return set(session.connection().execute(statement, rows).scalars())


def _insert_one(table: Table, row: dict[str, Any], session: Session) -> Outcome:
    try:
        inserted = _in_savepoint(session, lambda: _insert(table, [row], session))
    except db.DatabaseError as error:
        return Rejected(
            truncate(f"database refused the row: {error.message}"), RejectionKind.DATABASE_REJECTED
        )
    return Applied(duplicate=not inserted)


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


def apply_statuses(items: Sequence[Item[FLStatusMessage]]) -> dict[str, Outcome]:
    """Apply status messages in batch order, each once and in its own transaction.

    Each message writes its ``fl_status_message`` row with its transition, so a redelivered message
    finds the row and changes nothing; its own transaction gives its audit row and hub line their
    own time. After a transient failure that message and every later one are retried (FIFO: nothing
    may overtake a failed message of its model); what was committed before stays.
    """
    try:
        with db.session_scope() as session:
            existing = _model_ids((item.message.model_id for item in items), session)
    except (DatabaseUnavailableError, ConfigurationError) as error:
        return {item.message_id: Retry(error.message) for item in items}
    outcomes: dict[str, Outcome] = {}
    for index, item in enumerate(items):
        if item.message.model_id not in existing:
            outcomes[item.message_id] = Rejected(
                f"model_id: unknown model {item.message.model_id}", RejectionKind.UNKNOWN_MODEL
            )
            continue
        try:
            with db.session_scope() as session:
                outcomes[item.message_id] = _apply_status(item, session)
        except _Reject as rejection:
            outcomes[item.message_id] = rejection.rejected
        except db.DatabaseError as error:
            outcomes[item.message_id] = Rejected(
                truncate(f"database refused the status: {error.message}"), RejectionKind.DATABASE_REJECTED
            )
        except (DatabaseUnavailableError, ConfigurationError) as error:
            for later in items[index:]:
                outcomes[later.message_id] = Retry(error.message)
            break
    return outcomes


def _apply_status(item: Item[FLStatusMessage], session: Session) -> Outcome:
    message = item.message
    # Lock the model row before anything else, as every status change does: the foreign key check of
    # the insert below takes a share lock on it, and upgrading that to the update lock later
    # deadlocks with a concurrent stop or status.
    session.execute(select(Model.id).where(Model.id == message.model_id).with_for_update())
    recorded = session.scalar(
        insert(ReceivedStatusMessage)
        .values(message_id=item.key, model_id=message.model_id, status=message.status)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(ReceivedStatusMessage.message_id)
    )
    if recorded is None:
        return Applied(duplicate=True)
    now = update_model_status(message.model_id, message.status, session)
    if now is None:
        raise _Reject(Rejected(f"model_id: unknown model {message.model_id}", RejectionKind.UNKNOWN_MODEL))
    session.execute(
        update(ReceivedStatusMessage)
        .where(ReceivedStatusMessage.message_id == item.key)
        .values(result_status=now)
        .execution_options(synchronize_session=False)
    )
    return Applied()


def readable_model_id(body: str) -> str | None:
    """The model id of a rejected body when it has a valid one (the group of a FIFO dead letter).

    Any body at all gives an answer: one nested too deep for ``json`` (RecursionError) gives None.
    """
    try:
        parsed = json.loads(body)
        return str(uuid.UUID(str(parsed["model_id"]))) if isinstance(parsed, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


# --- 3. settle -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FLQueue:
    """One FL message queue: its name, record model, how a batch is applied, and whether it is FIFO."""

    name: str
    record_model: type[FLRecord]
    apply: Callable[[Sequence[Item[Any]]], dict[str, Outcome]]
    fifo: bool = False


FL_LOGS = FLQueue("fl-logs", FLLogRecord, partial(apply_in_one_transaction, apply=apply_logs))
FL_METRICS = FLQueue("fl-metrics", FLMetricRecord, partial(apply_in_one_transaction, apply=apply_metrics))
FL_STATUS = FLQueue("fl-status.fifo", FLStatusRecord, apply_statuses, fifo=True)


class RetryLater(Exception):
    """Raised by the record handler for a transient failure: the processor reports the record."""


def handle_batch(queue: FLQueue, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Process one SQS batch; returns ``{"batchItemFailures": [{"itemIdentifier": messageId}, …]}``."""
    items, outcomes = parse_records(event.get("Records") or [], queue.record_model)
    if items:
        outcomes.update(queue.apply(items))
    groups = {item.message_id: str(item.message.model_id) for item in items}
    dead_letter_queue_url = get_settings().dead_letter_queue_url

    def settle(record: SQSRecord) -> None:
        outcome = outcomes.get(record.message_id)
        if outcome is None:  # cannot happen: every record was parsed; never acknowledge the unknown
            raise RetryLater("no outcome for this record")
        if isinstance(outcome, Retry):
            raise RetryLater(outcome.reason)
        if isinstance(outcome, Rejected):
            group = groups.get(record.message_id) or readable_model_id(record.body)
            _dead_letter(queue, record, outcome, group, dead_letter_queue_url)

    processor = SqsFifoPartialProcessor() if queue.fifo else BatchProcessor(event_type=EventType.SQS)
    processor.raise_on_entire_batch_failure = False  # report every id; an exception would hide which
    response = process_partial_response(event, settle, processor, context)
    _summarise(queue, outcomes, response)
    return response


def _dead_letter(
    queue: FLQueue, record: SQSRecord, outcome: Rejected, group_id: str | None, queue_url: str | None
) -> None:
    letter = DeadLetter(
        message_id=record.message_id,
        body=record.body,
        source_queue=record.event_source_arn.rsplit(":", 1)[-1] if record.event_source_arn else queue.name,
        reason=outcome.reason,
        kind=outcome.kind.value,
        group_id=group_id,
    )
    try:
        dead_letter_id = send_dead_letter(letter, queue_url)
    except Exception as error:
        logger.error(
            "could not dead-letter a rejected FL message; it will be retried",
            extra={"queue": queue.name, "message_id": record.message_id, "error": type(error).__name__},
        )
        raise RetryLater("dead-letter queue unavailable") from error
    logger.warning(
        "FL message rejected",
        extra={
            "queue": queue.name,
            "message_id": record.message_id,
            "rejection_reason": outcome.reason,
            "rejection_kind": outcome.kind.value,
            "dead_letter_message_id": dead_letter_id,
        },
    )
    with single_metric(name="FLMessageRejected", unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="queue", value=queue.name)
        metric.add_dimension(name="reason", value=outcome.kind.value)


def _outcome_text(outcome: Outcome, retried: bool, behind_a_failure: bool) -> str:
    """One message's fate in a few words: ``applied``, ``duplicate``, ``dead-lettered: <reason>`` or
    ``retry: <cause>``. ``retried``: it is in ``batchItemFailures``; ``behind_a_failure``: an earlier
    message of its FIFO batch failed, so this one was not settled, whatever its outcome."""
    if isinstance(outcome, Applied) and not retried:
        return "duplicate" if outcome.duplicate else "applied"
    if isinstance(outcome, Rejected) and not retried:
        return f"dead-lettered: {truncate(outcome.reason, 120)}"
    if isinstance(outcome, Retry):
        cause = outcome.reason
    elif behind_a_failure:
        cause = "an earlier message of the FIFO batch failed"
    elif isinstance(outcome, Rejected):
        cause = "dead-letter queue unavailable"
    else:
        cause = "reported as failed"
    return f"retry: {truncate(cause, 120)}"


def _summarise(queue: FLQueue, outcomes: Mapping[str, Outcome], response: PartialItemFailureResponse) -> None:
    applied = [outcome for outcome in outcomes.values() if isinstance(outcome, Applied)]
    duplicates = sum(outcome.duplicate for outcome in applied)
    failed_in_order = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    failed = set(failed_in_order)
    retried = len(failed)
    metrics.add_dimension(name="queue", value=queue.name)
    metrics.add_metric(name="FLMessagesApplied", unit=MetricUnit.Count, value=len(applied) - duplicates)
    metrics.add_metric(name="FLMessagesDuplicate", unit=MetricUnit.Count, value=duplicates)
    metrics.add_metric(name="FLMessagesRetried", unit=MetricUnit.Count, value=retried)
    reasons = sorted({outcome.reason for outcome in outcomes.values() if isinstance(outcome, Retry)})
    log = logger.warning if retried else logger.info
    log(
        "FL message batch processed",
        extra={
            "queue": queue.name,
            "records": len(outcomes),
            "applied": len(applied) - duplicates,
            "duplicates": duplicates,
            "rejected": sum(
                isinstance(outcome, Rejected) and message_id not in failed
                for message_id, outcome in outcomes.items()
            ),
            "retried": retried,
            "retry_reasons": reasons,
            "outcomes": {  # the local stack prints a line per message from this
                message_id: _outcome_text(
                    outcome, message_id in failed, queue.fifo and message_id in failed_in_order[1:]
                )
                for message_id, outcome in outcomes.items()
            },
        },
    )
