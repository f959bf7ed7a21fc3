"""Alert handling: acknowledgements and silences of (monitor, signal) alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_handling",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sa.String(length=128), nullable=False),
        sa.Column("signal", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_episode", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("silenced_by", sa.String(length=128), nullable=True),
        sa.Column("silenced_until", sa.DateTime(), nullable=True),
        sa.Column("silence_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_handling")),
        sa.UniqueConstraint("monitor", "signal", name=op.f("uq_alert_handling_monitor")),
    )


def downgrade() -> None:
    op.drop_table("alert_handling")
