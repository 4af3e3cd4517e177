"""cdrs (issue 7): no index on billed_month, fillfactor 70 on PostgreSQL (bulk rating/closing)

Rating and closing a month rewrite every call record once. On PostgreSQL an UPDATE can stay on its
page without touching the indexes (a HOT update) only when no indexed column changes and the page has
room: billed_month loses its index (statements scan a month's rows once) and pages keep 30 % free.
Measured with bench.billing on 1,000,000 rows: closing 43 s -> 18 s.

Revision ID: e41c7d2a9b30
Revises: 7b2e4c91d0a5
Create Date: 2026-11-25 15:56:00
"""

from __future__ import annotations

from alembic import op

revision = "e41c7d2a9b30"
down_revision = "7b2e4c91d0a5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdrs_billed_month"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cdrs SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cdrs RESET (fillfactor)")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdrs_billed_month"), ["billed_month"], unique=False)
