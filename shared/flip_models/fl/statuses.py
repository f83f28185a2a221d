"""Applying FL status messages (``fl-status.fifo``): in batch order, each once, in its own transaction.

Each message locks its model row, records its idempotency key in ``fl_status_message`` and moves the
model through the core's transition on that locked row, all in one transaction: a redelivered
message finds its key and changes nothing, and its audit row and hub line get their own time. A key
found with another requested status is a reused ``event_id``: rejected (SPEC §5). Going in order,
one transaction each, a message whose key twin earlier in the batch was rejected finds no row for
its key and is judged on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from flip_models.core.transitions import lock_model, transition
from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.fl.messages import FLStatusMessage, truncate
from flip_models.fl.outcomes import (
    REUSED_KEY_REASON,
    Applied,
    Item,
    Outcome,
    Rejected,
    RejectionKind,
    Retry,
)
from flip_models.store import db
from flip_models.store.tables import Model, ReceivedStatusMessage


def _model_ids(model_ids: Iterable[uuid.UUID], session: Session) -> set[uuid.UUID]:
    """The models of the batch that exist, in one (Core) query."""
    rows = session.connection().execute(select(Model.id).where(Model.id.in_(set(model_ids))))
    return set(rows.scalars())


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
    # The model row is locked before anything else, as every status change does: the foreign key
    # check of the insert below takes a share lock on it, and upgrading that to the update lock
    # later deadlocks with a concurrent stop or status.
    model = lock_model(message.model_id, session)
    if model is None:
        return Rejected(f"model_id: unknown model {message.model_id}", RejectionKind.UNKNOWN_MODEL)
    recorded = session.scalar(
        insert(ReceivedStatusMessage)
        .values(message_id=item.key, model_id=message.model_id, status=message.status)
        .on_conflict_do_nothing(index_elements=["model_id", "message_id"])
        .returning(ReceivedStatusMessage.message_id)
    )
    if recorded is None:
        # The model row lock serialises this model's status messages: the row found is committed.
        requested = session.scalar(
            select(ReceivedStatusMessage.status).where(
                ReceivedStatusMessage.model_id == message.model_id,
                ReceivedStatusMessage.message_id == item.key,
            )
        )
        if requested is not None and requested != message.status:
            return Rejected(REUSED_KEY_REASON, RejectionKind.EVENT_ID_REUSED)
        return Applied(duplicate=True)
    now = transition(model, message.status, session)
    session.execute(
        update(ReceivedStatusMessage)
        .where(
            ReceivedStatusMessage.model_id == message.model_id, ReceivedStatusMessage.message_id == item.key
        )
        .values(result_status=now)
        .execution_options(synchronize_session=False)
    )
    return Applied()
