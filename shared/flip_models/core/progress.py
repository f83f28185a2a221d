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

#: Everything the card needs from the model's rows, read along the indexes of fm0003 (a handful of
#: entries per trust of the run, and per round start: never the run's rows), as JSON. Only what the
#: card uses is read: the first and the last round's start, the latest start's total, and per trust
#: of the run's roster its newest event, result and failure and its first and last round's result.
#: The event types are literals, as the partial indexes' conditions are (a parameter would keep a
#: generic plan off them).
_EVENTS_SQL = text(
    """
    WITH run AS (
        -- The current run: the model's newest job, from its start (else its creation). No job: no run.
        SELECT id, coalesce(started, created) AS since
        FROM fl_job
        WHERE model_id = :model_id
        ORDER BY created DESC, id DESC
        LIMIT 1
    ), ends AS (
        -- Only dates Python can read: other writers may store ±infinity, BC or year 20000 (no event
        -- of a run in any case). The run's first and last round started, each an index descent
        -- (single-table aggregates, so PostgreSQL reads them as ordered scans that stop at once).
        SELECT (SELECT min(l.global_round) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.event_type = 'ROUND_STARTED'
                  AND l.log_date >= (SELECT since FROM run) AND l.log_date < '10000-01-01') AS first,
               (SELECT max(l.global_round) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.event_type = 'ROUND_STARTED'
                  AND l.log_date >= (SELECT since FROM run) AND l.log_date < '10000-01-01') AS last
    ), rounds AS (
        SELECT x.global_round,
               (SELECT min(l.log_date) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.event_type = 'ROUND_STARTED'
                  AND l.global_round = x.global_round
                  AND l.log_date >= (SELECT since FROM run) AND l.log_date < '10000-01-01') AS started
        FROM ends AS e,
             LATERAL (SELECT DISTINCT g FROM (VALUES (e.first), (e.last)) AS v(g)
                      WHERE g IS NOT NULL) AS x(global_round)
    ), latest_start AS (
        -- A whole number of at most 10 digits, else unknown: details may hold anything at all.
        SELECT CASE WHEN jsonb_typeof(l.details -> 'total_rounds') = 'number'
                         AND l.details ->> 'total_rounds' ~ '^[0-9]{1,10}$'
                    THEN (l.details ->> 'total_rounds')::bigint END AS total
        FROM fl_logs AS l
        WHERE l.model_id = :model_id AND l.event_type = 'ROUND_STARTED'
          AND l.log_date >= (SELECT since FROM run) AND l.log_date < '10000-01-01'
        ORDER BY l.log_date DESC, l.id DESC
        LIMIT 1
    ), roster AS (
        SELECT DISTINCT r.trust_id AS trust FROM fl_job_trust AS r JOIN run ON r.fl_job_id = run.id
    ), per_trust AS (
        SELECT r.trust,
               (SELECT max(l.log_date) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = r.trust
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS last_event_at,
               (SELECT max(l.log_date) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = r.trust
                  AND l.event_type = 'CLIENT_RESULT_RECEIVED' AND l.success
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS last_result,
               (SELECT max(l.log_date) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = r.trust AND NOT l.success
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS last_failure,
               (SELECT min(l.global_round) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = r.trust
                  AND l.event_type = 'CLIENT_RESULT_RECEIVED' AND l.success AND l.global_round IS NOT NULL
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS first_round,
               (SELECT max(l.global_round) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = r.trust
                  AND l.event_type = 'CLIENT_RESULT_RECEIVED' AND l.success AND l.global_round IS NOT NULL
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS last_round
        FROM roster AS r, run
    ), trusts AS (
        SELECT * FROM per_trust WHERE last_event_at IS NOT NULL
    ), results AS (
        SELECT t.trust, x.global_round,
               (SELECT min(l.log_date) FROM fl_logs AS l
                WHERE l.model_id = :model_id AND l.trust = t.trust
                  AND l.event_type = 'CLIENT_RESULT_RECEIVED' AND l.success
                  AND l.global_round = x.global_round
                  AND l.log_date >= run.since AND l.log_date < '10000-01-01') AS at
        FROM trusts AS t, run,
             LATERAL (SELECT DISTINCT g FROM (VALUES (t.first_round), (t.last_round)) AS v(g)
                      WHERE g IS NOT NULL) AS x(global_round)
    )
    SELECT json_build_object(
        'rounds', (SELECT json_agg(json_build_array(global_round, started) ORDER BY global_round)
                   FROM rounds),
        'total', (SELECT total FROM latest_start),
        'trusts', (SELECT json_agg(json_build_array(trust, last_event_at, last_round, last_result,
                                                    last_failure) ORDER BY trust) FROM trusts),
        'results', (SELECT json_agg(json_build_array(trust, global_round, at) ORDER BY trust, global_round)
                    FROM results)
    )::text
    """
)
assert FLLogEvent.ROUND_STARTED.value == "ROUND_STARTED"
assert FLLogEvent.CLIENT_RESULT_RECEIVED.value == "CLIENT_RESULT_RECEIVED"


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
    return _EVENTS_SQL.bindparams(model_id=model_id).columns(column("events", Text)).scalar_subquery()


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
