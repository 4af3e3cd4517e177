"""phonebook_feeds: the link desk phones fetch the company directory from (one per tenant)

Revision ID: e7b2d4f6a1c3
Revises: d5f1b7c3e9a2
Create Date: 2026-12-08 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e7b2d4f6a1c3"
down_revision = "d5f1b7c3e9a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phonebook_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_phonebook_feeds_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phonebook_feeds")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_phonebook_feeds_tenant_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_phonebook_feeds_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("phonebook_feeds")
