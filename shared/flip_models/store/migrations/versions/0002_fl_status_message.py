"""fl_status_message: the idempotency record of FL status messages (SPEC §5, applied exactly once).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:54:11.393682
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fl_status_message",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "INITIATED",
                "PREPARED",
                "RUNNING",
                "RESULTS_UPLOADED",
                "RESULTS_UPLOAD_FAILED",
                "ERROR",
                "STOPPED",
                name="requested_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "result_status",
            sa.Enum(
                "PENDING",
                "INITIATED",
                "PREPARED",
                "RUNNING",
                "RESULTS_UPLOADED",
                "RESULTS_UPLOAD_FAILED",
                "ERROR",
                "STOPPED",
                name="result_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_fl_status_message_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_fl_status_message")),
    )
    op.create_index(op.f("ix_fl_status_message_model_id"), "fl_status_message", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fl_status_message_model_id"), table_name="fl_status_message")
    op.drop_table("fl_status_message")
