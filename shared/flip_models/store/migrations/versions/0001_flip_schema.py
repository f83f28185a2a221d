"""FLIP's schema: adopted where it exists, created from FLIP's own DDL on an empty database.

The service's track starts here, in its own version table (``flip_models_alembic_version``). On a
database where FLIP's migrations ran (``alembic_version`` holds FLIP's revision) nothing of FLIP's is
touched: every FLIP column the service uses is checked first, and a missing or incompatible one
stops the migration with its name. On an empty database FLIP's schema at its head is created as
FLIP's DDL writes it, ``alembic_version`` included. ``model_service_install`` records which of the
two it was, so the downgrade removes FLIP's schema only where the service created it.

Revision ID: fm0001
Revises:
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flip_models.store import flip_schema

revision: str = "fm0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    found = flip_schema.find_database(connection)
    reason = flip_schema.refusal(found)
    if reason is not None:
        raise flip_schema.FlipSchemaError(reason)
    created = found.empty
    if created:
        flip_schema.create_flip_schema(connection)
    else:
        problems = flip_schema.compatibility_problems(connection)
        if problems:
            raise flip_schema.FlipSchemaError(
                f"FLIP's schema (revision {found.flip_revision}) lacks what the service needs: "
                + "; ".join(problems)
            )
    op.create_table(
        "model_service_install",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("flip_schema_created", sa.Boolean(), nullable=False),
        sa.Column("flip_revision", sa.String(), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("model_service_install_pkey")),
    )
    op.execute(
        sa.text(
            "INSERT INTO model_service_install (id, flip_schema_created, flip_revision, installed_at) "
            "VALUES (1, :created, :revision, now() AT TIME ZONE 'UTC')"
        ).bindparams(created=created, revision=flip_schema.FLIP_HEAD if created else found.flip_revision)
    )


def downgrade() -> None:
    connection = op.get_bind()
    created = connection.scalar(sa.text("SELECT flip_schema_created FROM model_service_install WHERE id = 1"))
    op.drop_table("model_service_install")
    if created:
        flip_schema.drop_flip_schema(connection)
