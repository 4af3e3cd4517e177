"""panel hardening: session generation and disabled flag on panel accounts, password resets

Sign-out bumps panel_accounts.session_generation (part of the session fingerprint), so a cookie copied
before it is refused; password_resets holds the SHA-256 of each e-mailed reset token (issue 15).

Revision ID: a7d3e9c15b82
Revises: 8c4e1f7a2d93
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7d3e9c15b82"
down_revision = "8c4e1f7a2d93"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("panel_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["panel_accounts.id"],
            name=op.f("fk_password_resets_account_id_panel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_account_id"))
    op.drop_table("password_resets")
    with op.batch_alter_table("panel_accounts", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("session_generation")
