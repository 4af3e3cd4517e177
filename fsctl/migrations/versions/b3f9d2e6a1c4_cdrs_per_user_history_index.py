"""cdrs: an index on (tenant_id, extension, started_at) for one user's call history

The panel's history filtered by user read the tenant's whole time range through ix_cdrs_tenant_started
to find one user's newest calls (1,000,000 calls, 1,000 users: ~40 ms a page, and counting them
~400 ms). The index holds none of the columns rating and closing rewrite, so PostgreSQL's in-place
(HOT) updates of those stay possible.

Revision ID: b3f9d2e6a1c4
Revises: 5e8b1c2d7f40
Create Date: 2026-12-07 12:40:00
"""

from __future__ import annotations

from alembic import op

revision = "b3f9d2e6a1c4"
down_revision = "5e8b1c2d7f40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cdrs_tenant_extension_started", ["tenant_id", "extension", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_tenant_extension_started")
