"""schedules: the day/night override (臨時休業 / 臨時営業) and its until

Revision ID: d4a8f1b6c2e9
Revises: e5b7c9d1f2a4
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d4a8f1b6c2e9"
down_revision = "e5b7c9d1f2a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_mode", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("override_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint("override_mode", "override_mode IN ('open', 'closed')")
        batch_op.create_check_constraint(
            "override_until_mode", "override_until IS NULL OR override_mode IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_constraint("override_until_mode", type_="check")
        batch_op.drop_constraint("override_mode", type_="check")
        batch_op.drop_column("override_until")
        batch_op.drop_column("override_mode")
