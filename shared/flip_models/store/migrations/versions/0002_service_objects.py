"""The service's own objects (SPEC §2): FL message keys, status-message keys, the audit rows FLIP's
enum cannot hold, and the indexes its reads need on FLIP's tables (named ``flip_models_*``).

The indexes on FLIP's tables are built ``CONCURRENTLY``: FLIP's services and the FL consumers keep
writing meanwhile. A build interrupted earlier leaves an invalid index behind; it is dropped and
built again.

Revision ID: fm0002
Revises: fm0001
Create Date: 2026-12-07 20:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fm0002"
down_revision: str | Sequence[str] | None = "fm0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "PENDING",
    "INITIATED",
    "PREPARED",
    "RUNNING",
    "RESULTS_UPLOADED",
    "RESULTS_UPLOAD_FAILED",
    "ERROR",
    "STOPPED",
)

#: The service's indexes on FLIP's tables: name, table, columns, partial-index condition.
INDEXES: tuple[tuple[str, str, str, str | None], ...] = (
    # NULLs first: a row without a date (FLIP allows it) is the oldest of the feed.
    ("flip_models_fl_logs_model_id_log_date_id", "fl_logs", "model_id, log_date NULLS FIRST, id", None),
    ("flip_models_fl_metrics_model_id_timestamp", "fl_metrics", "model_id, timestamp", None),
    (
        "flip_models_models_audit_model_id_action_audit_date",
        "models_audit",
        "model_id, action, audit_date",
        None,
    ),
    ("flip_models_fl_job_model_id_created", "fl_job", "model_id, created", None),
    ("flip_models_fl_job_queued", "fl_job", "created, id", "status = 'QUEUED'"),
    ("flip_models_fl_scheduler_job_id", "fl_scheduler", "job_id", None),
    ("flip_models_model_creation_timestamp_id", "model", "creation_timestamp, id", None),
    ("flip_models_model_project_id", "model", "project_id", None),
    (
        "flip_models_model_trust_intersect_model_id_trust_id",
        "model_trust_intersect",
        "model_id, trust_id",
        None,
    ),
    ("flip_models_project_user_access_user_id", "project_user_access", "user_id, project_id", None),
    ("flip_models_projects_owner_id", "projects", "owner_id", None),
    ("flip_models_queries_project_id_created", "queries", "project_id, created", None),
    ("flip_models_uploaded_files_model_id", "uploaded_files", "model_id", None),
)


def _key_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("message_digest", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f(f"{name}_model_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id", "message_id", name=op.f(f"{name}_pkey")),
    )


def upgrade() -> None:
    _key_table("fl_log_message")
    _key_table("fl_metric_message")
    op.create_table(
        "fl_status_message",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *_STATUSES, name="requested_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "result_status",
            sa.Enum(*_STATUSES, name="result_status", native_enum=False, create_constraint=True, length=32),
            nullable=True,
        ),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fl_status_message_model_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id", "message_id", name=op.f("fl_status_message_pkey")),
    )
    op.create_table(
        "model_status_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "STOPPED",
                "ERROR",
                "RESULTS_UPLOAD_FAILED",
                name="model_status_audit_action",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("audit_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("model_status_audit_model_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("model_status_audit_pkey")),
    )
    op.create_index(
        "ix_model_status_audit_model_id_audit_date", "model_status_audit", ["model_id", "audit_date"]
    )
    with op.get_context().autocommit_block():
        # pg8000: Alembic reads the isolation level before switching to autocommit, and that query
        # opened a transaction the switch does not end. End it, or CONCURRENTLY is refused.
        op.execute("COMMIT")
        for name, table, columns, where in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            condition = f" WHERE {where}" if where else ""
            op.execute(f"CREATE INDEX CONCURRENTLY {name} ON {table} ({columns}){condition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("COMMIT")
        for name, _table, _columns, _where in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_index("ix_model_status_audit_model_id_audit_date", table_name="model_status_audit")
    op.drop_table("model_status_audit")
    op.drop_table("fl_status_message")
    op.drop_table("fl_metric_message")
    op.drop_table("fl_log_message")
