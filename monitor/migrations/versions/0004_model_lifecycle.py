"""Model lifecycle: the retraining schedule per monitor and champion promotions.

Revision ID: 0004_model_lifecycle
Revises: 0003_api_key_scopes
Create Date: 2026-11-24 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_model_lifecycle"
down_revision = "0003_api_key_scopes"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "retrain_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sa.String(length=128), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("anchor", sa.DateTime(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(), nullable=False),
        sa.Column("last_due_at", sa.DateTime(), nullable=True),
        sa.Column("last_requested_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_reason", sa.String(length=32), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrain_schedules")),
        sa.UniqueConstraint("monitor", name=op.f("uq_retrain_schedules_monitor")),
    )
    op.create_table(
        "model_promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sa.String(length=128), nullable=False),
        sa.Column("from_version", sa.String(length=128), nullable=False),
        sa.Column("to_version", sa.String(length=128), nullable=False),
        sa.Column("promoted_at", sa.DateTime(), nullable=False),
        sa.Column("evidence", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_promotions")),
    )
    with op.batch_alter_table("model_promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_promotions_monitor"), ["monitor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_promotions_monitor"))
    op.drop_table("model_promotions")
    op.drop_table("retrain_schedules")
