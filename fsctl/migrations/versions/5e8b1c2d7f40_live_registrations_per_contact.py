"""live_registrations: one row per registered contact (tenant, extension, contact), not per Call-ID

A phone that registers again under a new Call-ID (after a reboot) replaced its row in the switch but
added one here (issue 16: 3,040 rows for 1,000 phones). The rows are live state the service re-reads
from the switch after every (re)connect (`show registrations as json`), so the upgrade empties the
table rather than guessing which duplicate is current.

Revision ID: 5e8b1c2d7f40
Revises: a7d3e9c15b82
Create Date: 2026-12-07 05:10:00
"""

from __future__ import annotations

from alembic import op

revision = "5e8b1c2d7f40"
down_revision = "a7d3e9c15b82"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM live_registrations")
    with op.batch_alter_table("live_registrations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_live_registrations_device", type_="unique")
        batch_op.create_unique_constraint(
            "uq_live_registrations_contact", ["tenant_id", "extension", "contact"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM live_registrations")
    with op.batch_alter_table("live_registrations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_live_registrations_contact", type_="unique")
        batch_op.create_unique_constraint(
            "uq_live_registrations_device", ["tenant_id", "extension", "call_id"]
        )
