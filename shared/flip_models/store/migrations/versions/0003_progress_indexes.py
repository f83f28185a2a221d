"""The progress card's indexes on ``fl_logs`` (issue 26): the card reads a handful of index entries
per trust of the run, whatever the run's length (``core/progress.py``).

- ``…_round_started`` and ``…_round_started_round``: the run's latest round start, and its first
  and last round's (partial: a row or so per round);
- ``…_model_id_trust_log_date``: a trust's newest event, and its newest result (read backwards);
- ``…_results``: a trust's first and last round with a result (partial: successful results);
- ``…_failures``: a trust's newest failure (partial: failed rows only, few).

Built ``CONCURRENTLY`` like fm0002's (FLIP and the FL consumers keep writing); an invalid index left
by an interrupted build is dropped and built again.

Revision ID: fm0003
Revises: fm0002
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "fm0003"
down_revision: str | Sequence[str] | None = "fm0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name, table, columns, partial-index condition (as in fm0002).
INDEXES: tuple[tuple[str, str, str, str | None], ...] = (
    (
        "flip_models_fl_logs_round_started",
        "fl_logs",
        "model_id, log_date, id",
        "event_type = 'ROUND_STARTED'",
    ),
    (
        "flip_models_fl_logs_round_started_round",
        "fl_logs",
        "model_id, global_round, log_date",
        "event_type = 'ROUND_STARTED'",
    ),
    ("flip_models_fl_logs_model_id_trust_log_date", "fl_logs", "model_id, trust, log_date", None),
    (
        "flip_models_fl_logs_results",
        "fl_logs",
        "model_id, trust, global_round, log_date",
        "event_type = 'CLIENT_RESULT_RECEIVED' AND success",
    ),
    ("flip_models_fl_logs_failures", "fl_logs", "model_id, trust, log_date", "NOT success"),
)


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("COMMIT")  # see fm0002: pg8000's open transaction would refuse CONCURRENTLY
        for name, table, columns, where in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            condition = f" WHERE {where}" if where else ""
            op.execute(f"CREATE INDEX CONCURRENTLY {name} ON {table} ({columns}){condition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("COMMIT")
        for name, _table, _columns, _where in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
