"""API key scopes and per-model restriction.

Existing keys get the ``admin`` scope (before scopes they could do everything)
and no model restriction, so a running deployment keeps working unchanged.

Revision ID: 0003_api_key_scopes
Revises: 0002
Create Date: 2026-11-24 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_api_key_scopes"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(length=64), nullable=False, server_default="admin")
        )
        batch.add_column(sa.Column("models", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("models")
        batch.drop_column("scopes")
