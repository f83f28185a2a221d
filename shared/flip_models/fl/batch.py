"""One SQS batch of FL server messages (SPEC §5): applied once each, or dead-lettered with a reason.

A batch goes through three steps:

1. **parse** every record with its queue's record model (:mod:`flip_models.fl.outcomes`; the body is
   JSON). A body that breaks a rule is *rejected*.
2. **apply** the valid ones: logs and metrics in one transaction and one statement
   (:mod:`flip_models.fl.apply`); status messages one by one, in order, each in its own transaction
   (:mod:`flip_models.fl.statuses`). A database that is down or too slow makes the records *retry*.
3. **settle** each record under Powertools' batch processor (the FIFO one for status messages, so that
   nothing after a failed message of a batch is acknowledged): applied → acknowledged, rejected → sent
   to ``DEAD_LETTER_QUEUE_URL`` with ``rejection_reason`` and acknowledged, retry → reported in
   ``batchItemFailures`` so SQS delivers it again after the visibility timeout.

The idempotency key is the message's model with its ``event_id`` when it has one, else the SQS
``messageId``. A key applied before is a redelivery (acknowledged, no effect) when the body is the
same, and rejected (``event_id: reused with a different body``) when it is not (SPEC §5).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from flip_models.fl.apply import apply_in_one_transaction, apply_logs, apply_metrics
from flip_models.fl.dead_letters import DeadLetter, send_dead_letter
from flip_models.fl.messages import FLLogRecord, FLMetricRecord, FLRecord, FLStatusRecord, truncate
from flip_models.fl.outcomes import Applied, Item, Outcome, Rejected, Retry, parse_records
from flip_models.fl.statuses import apply_statuses
from flip_models.observability import logger, metrics, single_metric
from flip_models.store.settings import get_settings


def readable_model_id(body: str) -> str | None:
    """The model id of a rejected body when it has a valid one (the group of a FIFO dead letter).

    Any body at all gives an answer: one nested too deep for ``json`` (RecursionError) gives None.
    """
    try:
        parsed = json.loads(body)
        return str(uuid.UUID(str(parsed["model_id"]))) if isinstance(parsed, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


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
