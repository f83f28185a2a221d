"""What the web app shows of a model's runs (SPEC §3): the roster of its newest run and its place in the
job queue, for one model or a page of them, in one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from flip_models.core.schemas import TrustSummary

#: For each model asked about: the roster of its newest job (by created, then id) as JSON ordered by
#: trust name, and the 1-based rank of its earliest QUEUED job among all QUEUED jobs ordered by
#: (created, id). The queue is read along ``ix_fl_job_queued``.
_RUN_FACTS_SQL = text(
    """
    WITH wanted AS (
        SELECT DISTINCT unnest(:model_ids) AS model_id
    ), newest AS (
        SELECT DISTINCT ON (j.model_id) j.model_id, j.id
        FROM fl_job AS j JOIN wanted AS w ON w.model_id = j.model_id
        ORDER BY j.model_id, j.created DESC, j.id DESC
    ), rosters AS (
        SELECT n.model_id,
               json_agg(json_build_object('id', t.id, 'name', t.name, 'code', t.code)
                        ORDER BY t.name, t.id) AS trusts
        FROM newest AS n
        JOIN fl_job_trust AS r ON r.fl_job_id = n.id
        JOIN trust AS t ON t.id = r.trust_id
        GROUP BY n.model_id
    ), queue AS (
        SELECT q.model_id, row_number() OVER (ORDER BY q.created, q.id) AS position
        FROM fl_job AS q
        WHERE q.status = 'QUEUED'
    ), positions AS (
        SELECT queue.model_id, min(queue.position) AS position
        FROM queue JOIN wanted AS w ON w.model_id = queue.model_id
        GROUP BY queue.model_id
    )
    SELECT w.model_id, r.trusts, p.position
    FROM wanted AS w
    LEFT JOIN rosters AS r ON r.model_id = w.model_id
    LEFT JOIN positions AS p ON p.model_id = w.model_id
    """
).bindparams(bindparam("model_ids", type_=ARRAY(Uuid())))


@dataclass(frozen=True)
class RunFacts:
    """A model's roster (``[]`` before its first run) and queue position (None when not queued)."""

    trusts: list[TrustSummary] = field(default_factory=list)
    queue_position: int | None = None


def run_facts(model_ids: Sequence[uuid.UUID], session: Session) -> dict[uuid.UUID, RunFacts]:
    """:class:`RunFacts` of every model in ``model_ids``, in one query."""
    if not model_ids:
        return {}
    rows = session.execute(_RUN_FACTS_SQL, {"model_ids": list(model_ids)}).all()
    found = {model_id: RunFacts() for model_id in model_ids}
    for model_id, trusts, position in rows:
        found[model_id] = RunFacts(
            trusts=[TrustSummary.model_validate(trust) for trust in trusts or []],
            queue_position=None if position is None else int(position),
        )
    return found
