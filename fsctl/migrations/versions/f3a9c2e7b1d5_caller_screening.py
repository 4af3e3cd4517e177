"""caller screening: 非通知拒否 per number and user, the tenant's blocklist, screened calls in the history

Revision ID: f3a9c2e7b1d5
Revises: c3f9a2e7d5b1
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f3a9c2e7b1d5"
down_revision = "c3f9a2e7d5b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_anonymous",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("refuse", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "(number_id IS NULL) <> (user_id IS NULL)", name=op.f("ck_screening_anonymous_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["numbers.id"],
            name=op.f("fk_screening_anonymous_number_id_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_screening_anonymous_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_screening_anonymous_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_anonymous")),
        sa.UniqueConstraint("number_id", name="uq_screening_anonymous_number"),
        sa.UniqueConstraint("user_id", name="uq_screening_anonymous_user"),
    )
    op.create_index(
        op.f("ix_screening_anonymous_tenant_id"), "screening_anonymous", ["tenant_id"], unique=False
    )
    op.create_table(
        "screening_blocklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=20), nullable=False),
        sa.Column("prefix", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=80), nullable=False),
        sa.CheckConstraint("action IN ('announce', 'reject')", name=op.f("ck_screening_blocklist_action")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_screening_blocklist_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_blocklist")),
        sa.UniqueConstraint("tenant_id", "pattern", "prefix", name="uq_screening_blocklist_entry"),
    )
    op.create_index(
        op.f("ix_screening_blocklist_tenant_id"), "screening_blocklist", ["tenant_id"], unique=False
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screened", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_column("screened")
    op.drop_index(op.f("ix_screening_blocklist_tenant_id"), table_name="screening_blocklist")
    op.drop_table("screening_blocklist")
    op.drop_index(op.f("ix_screening_anonymous_tenant_id"), table_name="screening_anonymous")
    op.drop_table("screening_anonymous")
