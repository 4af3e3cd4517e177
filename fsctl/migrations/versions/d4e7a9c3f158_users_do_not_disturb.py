"""users do not disturb

Revision ID: d4e7a9c3f158
Revises: d4a8f1b6c2e9
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d4e7a9c3f158"
down_revision = "d4a8f1b6c2e9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("do_not_disturb", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("do_not_disturb")
