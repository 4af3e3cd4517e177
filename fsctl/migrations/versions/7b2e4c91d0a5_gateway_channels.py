"""customer gateways (issue 8): gateway_channels, the plan channels in use now

Revision ID: 7b2e4c91d0a5
Revises: 2d6509fa411a
Create Date: 2026-11-25 15:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7b2e4c91d0a5"
down_revision = "2d6509fa411a"
branch_labels = None
depends_on = None


FK_DESTINATION = "fk_gateway_numbers_destination_id_destinations"


def upgrade() -> None:
    # 0a94e75e1a3c as first committed declared this foreign key use_alter, which create_table skips on
    # PostgreSQL; databases migrated with that version get it here (fresh ones already have it).
    names = {fk["name"] for fk in sa.inspect(op.get_bind()).get_foreign_keys("gateway_numbers")}
    if FK_DESTINATION not in names:
        with op.batch_alter_table("gateway_numbers", schema=None) as batch_op:
            batch_op.create_foreign_key(
                FK_DESTINATION, "destinations", ["destination_id"], ["id"], ondelete="SET NULL"
            )
    op.create_table(
        "gateway_channels",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_gateway_channels_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_gateway_channels_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_gateway_channels")),
    )
    with op.batch_alter_table("gateway_channels", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_channels_gateway", ["gateway_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_channels", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_channels_gateway")
    op.drop_table("gateway_channels")
