"""panel_accounts: two-step verification (TOTP secret, last accepted step, recovery codes)

Revision ID: d8e2a4c6b1f3
Revises: b3f9d2e6a1c4
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d8e2a4c6b1f3"
down_revision = "b3f9d2e6a1c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("panel_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("totp_recovery", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("panel_accounts", schema=None) as batch_op:
        batch_op.drop_column("totp_recovery")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
