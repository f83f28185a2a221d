"""Initial schema: the tables of SPEC §2 with their keys, CHECKs and query indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 19:41:49.890485
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fl_nets",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column(
            "fl_backend",
            sa.Enum(
                "NVFLARE", "FLOWER", name="fl_backend", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fl_nets")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_fl_nets_endpoint")),
        sa.UniqueConstraint("name", name=op.f("uq_fl_nets_name")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "UNSTAGED",
                "STAGED",
                "APPROVED",
                name="project_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="UNSTAGED",
            nullable=False,
        ),
        sa.Column(
            "creation_timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_owner_id"), "projects", ["owner_id"], unique=False)
    op.create_table(
        "trust",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust")),
    )
    op.create_table(
        "fl_kit_slot",
        sa.Column("slot_name", sa.Text(), nullable=False),
        sa.Column("slot_number", sa.Integer(), nullable=False),
        sa.Column("assigned_to_trust_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to_trust_id"],
            ["trust.id"],
            name=op.f("fk_fl_kit_slot_assigned_to_trust_id_trust"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("slot_name", name=op.f("pk_fl_kit_slot")),
    )
    op.create_index(
        op.f("ix_fl_kit_slot_assigned_to_trust_id"), "fl_kit_slot", ["assigned_to_trust_id"], unique=False
    )
    op.create_table(
        "model",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=75), nullable=False),
        sa.Column("description", sa.String(length=250), server_default="", nullable=False),
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
                name="model_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "creation_timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_model_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model")),
    )
    op.create_index("ix_model_creation_timestamp_id", "model", ["creation_timestamp", "id"], unique=False)
    op.create_index(op.f("ix_model_project_id"), "model", ["project_id"], unique=False)
    op.create_table(
        "project_trust_intersect",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("approved", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_trust_intersect_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_project_trust_intersect_trust_id_trust")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_trust_intersect")),
    )
    op.create_index(
        op.f("ix_project_trust_intersect_project_id"), "project_trust_intersect", ["project_id"], unique=False
    )
    op.create_table(
        "project_user_access",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_user_access_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_user_access")),
        sa.UniqueConstraint("project_id", "user_id", name=op.f("uq_project_user_access_project_id_user_id")),
    )
    op.create_index(op.f("ix_project_user_access_user_id"), "project_user_access", ["user_id"], unique=False)
    op.create_table(
        "fl_job",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "IN_PROGRESS",
                "COMPLETED",
                "DELETED",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="QUEUED",
            nullable=False,
        ),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_fl_job_model_id_model")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fl_job")),
    )
    op.create_index("ix_fl_job_model_id_created", "fl_job", ["model_id", "created"], unique=False)
    op.create_table(
        "fl_logs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("log_date", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("success", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("trust", sa.Uuid(), nullable=True),
        sa.Column("fl_client_name", sa.Text(), nullable=True),
        sa.Column("log", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=True),
        sa.Column("global_round", sa.Integer(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_fl_logs_model_id_model")),
        sa.ForeignKeyConstraint(["trust"], ["trust.id"], name=op.f("fk_fl_logs_trust_trust")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fl_logs")),
        sa.UniqueConstraint("message_id", name=op.f("uq_fl_logs_message_id")),
    )
    op.create_index(
        "ix_fl_logs_model_id_log_date_id", "fl_logs", ["model_id", "log_date", "id"], unique=False
    )
    op.create_table(
        "fl_metrics",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("trust", sa.Uuid(), nullable=False),
        sa.Column("fl_client_name", sa.Text(), nullable=False),
        sa.Column("global_round", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("result", sa.Double(), nullable=False),
        sa.Column("x_label", sa.Text(), server_default="Global Round", nullable=False),
        sa.Column("x_value", sa.Double(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_fl_metrics_model_id_model")),
        sa.ForeignKeyConstraint(["trust"], ["trust.id"], name=op.f("fk_fl_metrics_trust_trust")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fl_metrics")),
        sa.UniqueConstraint("message_id", name=op.f("uq_fl_metrics_message_id")),
    )
    op.create_index(op.f("ix_fl_metrics_model_id"), "fl_metrics", ["model_id"], unique=False)
    op.create_table(
        "model_trust_intersect",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "REQUEST_SENT",
                "INITIALISED",
                name="trust_intersect_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("fl_client_endpoint", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_model_trust_intersect_model_id_model")
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_model_trust_intersect_trust_id_trust")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_trust_intersect")),
        sa.UniqueConstraint("model_id", "trust_id", name=op.f("uq_model_trust_intersect_model_id_trust_id")),
    )
    op.create_table(
        "models_audit",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "EDIT",
                "DELETE",
                "PREPARED",
                "RUNNING",
                "RESULTS_UPLOADED",
                "RESULTS_UPLOAD_FAILED",
                "ERROR",
                "STOPPED",
                name="model_audit_action",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("audit_date", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_models_audit_model_id_model")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models_audit")),
    )
    op.create_index(
        "ix_models_audit_model_id_action_audit_date",
        "models_audit",
        ["model_id", "action", "audit_date"],
        unique=False,
    )
    op.create_table(
        "fl_scheduler",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("net_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "AVAILABLE", "BUSY", name="net_status", native_enum=False, create_constraint=True, length=32
            ),
            server_default="AVAILABLE",
            nullable=False,
        ),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["fl_job.id"], name=op.f("fk_fl_scheduler_job_id_fl_job")),
        sa.ForeignKeyConstraint(["net_id"], ["fl_nets.id"], name=op.f("fk_fl_scheduler_net_id_fl_nets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fl_scheduler")),
    )
    op.create_index(op.f("ix_fl_scheduler_job_id"), "fl_scheduler", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fl_scheduler_job_id"), table_name="fl_scheduler")
    op.drop_table("fl_scheduler")
    op.drop_index("ix_models_audit_model_id_action_audit_date", table_name="models_audit")
    op.drop_table("models_audit")
    op.drop_table("model_trust_intersect")
    op.drop_index(op.f("ix_fl_metrics_model_id"), table_name="fl_metrics")
    op.drop_table("fl_metrics")
    op.drop_index("ix_fl_logs_model_id_log_date_id", table_name="fl_logs")
    op.drop_table("fl_logs")
    op.drop_index("ix_fl_job_model_id_created", table_name="fl_job")
    op.drop_table("fl_job")
    op.drop_index(op.f("ix_project_user_access_user_id"), table_name="project_user_access")
    op.drop_table("project_user_access")
    op.drop_index(op.f("ix_project_trust_intersect_project_id"), table_name="project_trust_intersect")
    op.drop_table("project_trust_intersect")
    op.drop_index(op.f("ix_model_project_id"), table_name="model")
    op.drop_index("ix_model_creation_timestamp_id", table_name="model")
    op.drop_table("model")
    op.drop_index(op.f("ix_fl_kit_slot_assigned_to_trust_id"), table_name="fl_kit_slot")
    op.drop_table("fl_kit_slot")
    op.drop_table("trust")
    op.drop_index(op.f("ix_projects_owner_id"), table_name="projects")
    op.drop_table("projects")
    op.drop_table("fl_nets")
