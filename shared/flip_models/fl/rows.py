"""Each FL log or metric message as the row the batch statement inserts, and the rows kept for
messages that cannot be attributed (SPEC §5).

A message becomes a JSON-ready row (:func:`log_row`, :func:`metric_row`), checked against what the
batch statement (:mod:`flip_models.fl.attribution`) found for it (:func:`attribution_rejection`); a
failed client's text is kept as a model-level row even when its client is unattributable
(:func:`unattributed_log`). :mod:`flip_models.fl.apply` runs the statements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from flip_models.fl.attribution import LOG_ROWS, METRIC_ROWS, Attribution, BatchInsert
from flip_models.fl.messages import FLLogMessage, FLMetricMessage, truncate
from flip_models.fl.outcomes import Item, M, Rejected, RejectionKind

#: Prefix of a failed free-text log whose client is not attributable to the model (SPEC §5).
UNATTRIBUTED_PREFIX = "[unattributed client '{name}'] "


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
class RowKind(Generic[M]):
    """How one queue's messages become rows: the batch statement, each message's JSON-ready row, and
    the row kept for a message that cannot be attributed (None: it is rejected)."""

    rows: BatchInsert
    row_of: Callable[[Item[M]], dict[str, Any]]
    kept_row: Callable[[Item[M], Rejected], dict[str, Any] | None]


def log_row(item: Item[FLLogMessage]) -> dict[str, Any]:
    message = item.message
    return {
        "model_id": str(message.model_id),
        "fl_client_name": message.fl_client_name,
        "sent_at": item.sent_at.isoformat(),
        "success": message.success,
        "log": message.log,
        "event_type": message.event_type,
        "global_round": message.global_round,
        "details": message.details,
        "message_id": item.key,
        "message_digest": item.digest,
    }


def unattributed_log(item: Item[FLLogMessage], rejected: Rejected) -> dict[str, Any] | None:
    """A failed client's text is kept as a model-level row even when the client is unattributable:
    the user must see the error (SPEC §5). Anything else from such a client is rejected."""
    message = item.message
    unattributable = rejected.kind in (RejectionKind.UNKNOWN_FL_CLIENT, RejectionKind.TRUST_NOT_IN_MODEL)
    if not (unattributable and message.log is not None and not message.success):
        return None
    return {
        "model_id": str(message.model_id),
        "sent_at": item.sent_at.isoformat(),
        "success": message.success,
        "trust": None,
        "fl_client_name": message.fl_client_name,
        "log": UNATTRIBUTED_PREFIX.format(name=message.fl_client_name) + message.log,
        "event_type": message.event_type,
        "global_round": message.global_round,
        "details": message.details,
        "message_id": item.key,
        "message_digest": item.digest,
    }


def metric_row(item: Item[FLMetricMessage]) -> dict[str, Any]:
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
        "sent_at": item.sent_at.isoformat(),
        "message_id": item.key,
        "message_digest": item.digest,
    }


def never_kept(_item: Item[FLMetricMessage], _rejected: Rejected) -> None:
    return None


LOGS: RowKind[FLLogMessage] = RowKind(LOG_ROWS, log_row, unattributed_log)
METRICS: RowKind[FLMetricMessage] = RowKind(METRIC_ROWS, metric_row, never_kept)
