"""Segment results: each signal result may name the segment it judged.

Revision ID: 0005_segments
Revises: 0004_model_lifecycle
Create Date: 2026-11-24 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_segments"
down_revision = "0004_model_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signal_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=256), nullable=True))
        batch_op.create_index("ix_signal_results_segment", ["segment"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signal_results", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_results_segment")
        batch_op.drop_column("segment")
