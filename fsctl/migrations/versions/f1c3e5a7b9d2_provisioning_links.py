"""provisioning_links: single-use phone set-up links (Linphone remote provisioning)

Revision ID: f1c3e5a7b9d2
Revises: d4e7a9c3f158
Create Date: 2026-12-07 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f1c3e5a7b9d2"
down_revision = "d4e7a9c3f158"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provisioning_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provisioning_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_provisioning_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_provisioning_links_token_hash")),
    )
    with op.batch_alter_table("provisioning_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provisioning_links_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provisioning_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("provisioning_links")
