"""The tables FLIP's web app reads through this API (SPEC §2): run rosters, user profiles, project
queries and uploaded files, plus the index of the job queue.

Other FLIP services write these tables too: every id and timestamp has a server-side default.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_profile",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("organisation", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_profile")),
    )
    op.create_table(
        "queries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_queries_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queries")),
    )
    op.create_index("ix_queries_project_id_created", "queries", ["project_id", "created"], unique=False)
    op.create_table(
        "uploaded_files",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("size", sa.Double(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("tag", sa.Text(), nullable=True),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_uploaded_files_model_id_model")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploaded_files")),
    )
    op.create_index(op.f("ix_uploaded_files_model_id"), "uploaded_files", ["model_id"], unique=False)
    op.create_table(
        "fl_job_trust",
        sa.Column("fl_job_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["fl_job_id"], ["fl_job.id"], name=op.f("fk_fl_job_trust_fl_job_id_fl_job")),
        sa.ForeignKeyConstraint(["trust_id"], ["trust.id"], name=op.f("fk_fl_job_trust_trust_id_trust")),
        sa.PrimaryKeyConstraint("fl_job_id", "trust_id", name=op.f("pk_fl_job_trust")),
    )
    op.create_index(
        "ix_fl_job_queued",
        "fl_job",
        ["created", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'QUEUED'"),
    )


def downgrade() -> None:
    op.drop_index("ix_fl_job_queued", table_name="fl_job", postgresql_where=sa.text("status = 'QUEUED'"))
    op.drop_table("fl_job_trust")
    op.drop_index(op.f("ix_uploaded_files_model_id"), table_name="uploaded_files")
    op.drop_table("uploaded_files")
    op.drop_index("ix_queries_project_id_created", table_name="queries")
    op.drop_table("queries")
    op.drop_table("user_profile")
