"""The round progress card (SPEC §3 "progress"): where the current run is, derived from typed events.

It tolerates duplicated and missing events because it takes maxima and earliest times, never
sequences: a round's start is its earliest ``ROUND_STARTED``, a trust's last round is its highest
successful ``CLIENT_RESULT_RECEIVED``. The average round time is the time from the lowest round's
start to the highest round's start divided by the rounds between them, which is the mean gap between
consecutive rounds when none is missing, and still the time per round when one is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, column, select, text
from sqlalchemy.orm import Session

from flip_models.core.runs import run_facts
from flip_models.core.schemas import ModelProgress, TrustProgress, TrustState
from flip_models.enums import FLLogEvent

#: Everything the card needs from the model's rows, in one scan of them (as JSON).
_EVENTS_SQL = text(
    """
    WITH run AS (
        -- The current run: the model's newest job, from its start (else its creation). No job: no run.
        SELECT coalesce(started, created) AS since
        FROM fl_job
        WHERE model_id = :model_id
        ORDER BY created DESC, id DESC
        LIMIT 1
    ), events AS MATERIALIZED (
        -- Only dates Python can read: other writers may store ±infinity, BC or year 20000 (no event
        -- of a run in any case).
        SELECT trust, event_type, global_round, success, log_date, id, details
        FROM fl_logs
        WHERE model_id = :model_id
          AND log_date >= (SELECT since FROM run)
          AND log_date < '10000-01-01'
    ), rounds AS (
        SELECT global_round, min(log_date) AS started
        FROM events
        WHERE event_type = :round_started AND global_round IS NOT NULL
        GROUP BY global_round
    ), latest_start AS (
        -- A whole number of at most 10 digits, else unknown: details may hold anything at all.
        SELECT CASE WHEN jsonb_typeof(details -> 'total_rounds') = 'number'
                         AND details ->> 'total_rounds' ~ '^[0-9]{1,10}$'
                    THEN (details ->> 'total_rounds')::bigint END AS total
        FROM events
        WHERE event_type = :round_started
        ORDER BY log_date DESC, id DESC
        LIMIT 1
    ), trusts AS (
        SELECT trust,
               max(log_date) AS last_event_at,
               max(global_round) FILTER (WHERE event_type = :result AND success) AS last_round,
               max(log_date) FILTER (WHERE event_type = :result AND success) AS last_result,
               max(log_date) FILTER (WHERE NOT success) AS last_failure
        FROM events
        WHERE trust IS NOT NULL
        GROUP BY trust
    ), results AS (
        SELECT trust, global_round, min(log_date) AS at
        FROM events
        WHERE trust IS NOT NULL AND event_type = :result AND success AND global_round IS NOT NULL
        GROUP BY trust, global_round
    )
    SELECT json_build_object(
        'rounds', (SELECT json_agg(json_build_array(global_round, started)) FROM rounds),
        'total', (SELECT total FROM latest_start),
        'trusts', (SELECT json_agg(json_build_array(trust, last_event_at, last_round, last_result,
                                                    last_failure)) FROM trusts),
        'results', (SELECT json_agg(json_build_array(trust, global_round, at)) FROM results)
    )::text
    """
)


#: The largest round a row can hold (``fl_logs.global_round`` is an integer).
_MAX_ROUND = 2_147_483_647


@dataclass(frozen=True)
class _TrustEvents:
    last_event_at: datetime | None
    last_round: int | None
    last_result: datetime | None
    last_failure: datetime | None
    results: dict[int, datetime]


def progress_events(model_id: uuid.UUID) -> ColumnElement[str]:
    """The aggregate the card is made of (its query, as a scalar subquery giving its JSON text): the
    card's version too (:mod:`core.versions`), so a poll reads it once."""
    return (
        _EVENTS_SQL.bindparams(
            model_id=model_id,
            round_started=FLLogEvent.ROUND_STARTED.value,
            result=FLLogEvent.CLIENT_RESULT_RECEIVED.value,
        )
        .columns(column("events", Text))
        .scalar_subquery()
    )


def get_model_progress(model_id: uuid.UUID, session: Session, now: datetime | None = None) -> ModelProgress:
    """The progress of the model's current run and of each trust of its roster (SPEC §3): the events
    dated at or after the start of its newest ``fl_job`` (its ``started``, else ``created``)."""
    events: str = session.execute(select(progress_events(model_id))).scalar_one()
    return progress_from(model_id, events, session, now or datetime.now(UTC))


def remaining_seconds(events: str, now: datetime) -> float | None:
    """The card's estimate of the time left at ``now`` (what makes a card change with time alone)."""
    return _estimate(json.loads(events), now)[3]


def _estimate(
    raw: Mapping[str, Any], now: datetime
) -> tuple[dict[int, datetime], float | None, int | None, float | None]:
    """The rounds' starts, seconds per round, total rounds and the time left at ``now``."""
    starts = {int(round_): _time(started) for round_, started in raw["rounds"] or []}
    current = max(starts, default=None)
    average = _per_round_seconds(starts)
    total = _positive_int(raw["total"])
    remaining = None
    if average is not None and total is not None and current is not None:
        elapsed = (now - starts[current]).total_seconds()
        remaining = max(0.0, average * (total - current + 1) - elapsed)
    return starts, average, total, remaining


def progress_from(model_id: uuid.UUID, events: str, session: Session, now: datetime) -> ModelProgress:
    """The card from its aggregate (:func:`progress_events`) and the roster of the model's run."""
    raw: dict[str, Any] = json.loads(events)
    roster = run_facts([model_id], session)[model_id].trusts
    starts, average, total, remaining = _estimate(raw, now)
    current = max(starts, default=None)
    found = _trust_events(raw)
    return ModelProgress(
        current_round=current,
        total_rounds=total,
        started_at=starts[min(starts)] if starts else None,
        avg_round_seconds=average,
        est_remaining_seconds=remaining,
        trusts=[
            _trust_progress(trust.id, trust.name, trust.code, found.get(trust.id), current)
            for trust in roster
        ],
    )


def _trust_events(raw: Mapping[str, Any]) -> dict[uuid.UUID, _TrustEvents]:
    results: dict[uuid.UUID, dict[int, datetime]] = {}
    for trust, round_, at in raw["results"] or []:
        results.setdefault(uuid.UUID(trust), {})[int(round_)] = _time(at)
    found = {}
    for trust, last_event_at, last_round, last_result, last_failure in raw["trusts"] or []:
        trust_id = uuid.UUID(trust)
        found[trust_id] = _TrustEvents(
            last_event_at=_time(last_event_at),
            last_round=last_round,
            last_result=_time(last_result) if last_result else None,
            last_failure=_time(last_failure) if last_failure else None,
            results=results.get(trust_id, {}),
        )
    return found


def _trust_progress(
    trust_id: uuid.UUID, name: str, code: str | None, events: _TrustEvents | None, current: int | None
) -> TrustProgress:
    state: TrustState = "training"
    if events is not None:
        failure, result = events.last_failure, events.last_result
        if failure is not None and (result is None or result < failure):
            state = "dropped"
        elif events.last_round is not None and events.last_round == current:
            state = "returned"
    return TrustProgress(
        id=trust_id,
        name=name,
        code=code,
        state=state,
        last_round=events.last_round if events else None,
        last_event_at=events.last_event_at if events else None,
        avg_round_seconds=_per_round_seconds(events.results) if events else None,
    )


def _per_round_seconds(times: Mapping[int, datetime]) -> float | None:
    """Seconds per round from the lowest to the highest round's time; None with fewer than 2 rounds."""
    if len(times) < 2:
        return None
    first, last = min(times), max(times)
    return (times[last] - times[first]).total_seconds() / (last - first)


def _positive_int(value: object) -> int | None:
    """A round count: a whole number from 1 to the largest round (anything else is unknown)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_ROUND:
        return value
    return None


def _time(value: str) -> datetime:
    """A timestamp as PostgreSQL's JSON writes it: ISO 8601, with its offset from a ``timestamptz``,
    without one from FLIP's naive columns (which hold UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
