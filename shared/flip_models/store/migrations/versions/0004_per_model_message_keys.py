"""Idempotency keys per model (SPEC §5): unique (model_id, message_id) in fl_logs and fl_metrics, the
status messages' key (model_id, message_id), and a digest of each message's body.

Safe on a populated table: the old unique (message_id) implies the new key, so no row can break it;
the new unique indexes are built ``CONCURRENTLY`` (FL consumers keep writing meanwhile) and then
attached as constraints, which takes only a brief lock. The index the stale-run sweep reads
(fl_metrics by model and time) replaces the plain model_id index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 22:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYED = ("fl_logs", "fl_metrics")


def upgrade() -> None:
    for table in _KEYED:
        op.add_column(table, sa.Column("message_digest", sa.Text(), nullable=True))
    with op.get_context().autocommit_block():
        # pg8000: Alembic reads the isolation level before switching to autocommit, and that query
        # opened a transaction the switch does not end. End it, or CONCURRENTLY is refused.
        op.execute("COMMIT")
        for table in _KEYED:
            name = f"uq_{table}_model_id_message_id"
            # A build interrupted earlier leaves an invalid index behind: start again.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} (model_id, message_id)")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_fl_metrics_model_id_timestamp")
        op.execute(
            "CREATE INDEX CONCURRENTLY ix_fl_metrics_model_id_timestamp ON fl_metrics (model_id, timestamp)"
        )
    for table in _KEYED:
        name = f"uq_{table}_model_id_message_id"
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")
        op.drop_constraint(f"uq_{table}_message_id", table, type_="unique")
    op.drop_index("ix_fl_metrics_model_id", table_name="fl_metrics")
    op.drop_constraint("pk_fl_status_message", "fl_status_message", type_="primary")
    op.create_primary_key("pk_fl_status_message", "fl_status_message", ["model_id", "message_id"])
    op.drop_index("ix_fl_status_message_model_id", table_name="fl_status_message")


def downgrade() -> None:
    """Back to global keys: fails if two models now share a key (their rows would have to go)."""
    op.create_index("ix_fl_status_message_model_id", "fl_status_message", ["model_id"], unique=False)
    op.drop_constraint("pk_fl_status_message", "fl_status_message", type_="primary")
    op.create_primary_key("pk_fl_status_message", "fl_status_message", ["message_id"])
    op.create_index("ix_fl_metrics_model_id", "fl_metrics", ["model_id"], unique=False)
    op.drop_index("ix_fl_metrics_model_id_timestamp", table_name="fl_metrics")
    for table in _KEYED:
        op.create_unique_constraint(f"uq_{table}_message_id", table, ["message_id"])
        op.drop_constraint(f"uq_{table}_model_id_message_id", table, type_="unique")
        op.drop_column(table, "message_digest")
