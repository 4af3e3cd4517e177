"""live_calls.external: the leg holds one of the tenant's contracted outside channels

The panel shows "n of N outside lines in use" from it (fsctl.esl.handlers.Calls._mark_external).

Revision ID: 8c4e1f7a2d93
Revises: 3f6d2a8c1b47
Create Date: 2026-11-25 18:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8c4e1f7a2d93"
down_revision = "3f6d2a8c1b47"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("live_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("live_calls", schema=None) as batch_op:
        batch_op.drop_column("external")
