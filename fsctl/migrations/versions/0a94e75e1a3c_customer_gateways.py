"""customer gateways (issue 8): gateways, gateway_numbers, outbound_routes, gateway_refusals

Revision ID: 0a94e75e1a3c
Revises: 153a8b745f60
Create Date: 2026-11-25 15:15:23.738616
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0a94e75e1a3c"
down_revision = "153a8b745f60"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "auth",
            sa.Enum(
                "credentials",
                "address",
                name="gateway_auth",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("a1_hash", sa.String(length=32), nullable=True),
        sa.Column("cidr", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(auth = 'credentials' AND a1_hash IS NOT NULL AND length(a1_hash) = 32) OR (auth = 'address' AND cidr IS NOT NULL AND address IS NOT NULL)",
            name=op.f("ck_gateways_auth_complete"),
        ),
        sa.CheckConstraint("channels IN (4, 8, 16, 32)", name=op.f("ck_gateways_channel_plan")),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_gateways_port_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_gateways_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateways")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_gateways_tenant_name"),
    )
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateways_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "gateway_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("national", sa.String(length=16), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("e164 LIKE '+81%'", name=op.f("ck_gateway_numbers_e164_japan")),
        sa.CheckConstraint("national LIKE '0%'", name=op.f("ck_gateway_numbers_national_leading_zero")),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name=op.f("fk_gateway_numbers_destination_id_destinations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_gateway_numbers_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_gateway_numbers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_numbers")),
        sa.UniqueConstraint("e164", name=op.f("uq_gateway_numbers_e164")),
        sa.UniqueConstraint("national", name=op.f("uq_gateway_numbers_national")),
    )
    with op.batch_alter_table("gateway_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_numbers_gateway_id"), ["gateway_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gateway_numbers_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "gateway_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_gateway_refusals_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_gateway_refusals_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_refusals")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_gateway_refusals_call_uuid")),
    )
    with op.batch_alter_table("gateway_refusals", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_refusals_gateway_at", ["gateway_id", "at"], unique=False)

    op.create_table(
        "outbound_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("gateway_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_outbound_routes_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_outbound_routes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbound_routes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_routes")),
        sa.UniqueConstraint("tenant_id", "user_id", name="uq_outbound_routes_tenant_user"),
    )
    with op.batch_alter_table("outbound_routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_routes_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbound_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_routes_tenant_id"))

    op.drop_table("outbound_routes")
    with op.batch_alter_table("gateway_refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_refusals_gateway_at")

    op.drop_table("gateway_refusals")
    with op.batch_alter_table("gateway_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_numbers_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_numbers_gateway_id"))

    op.drop_table("gateway_numbers")
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateways_tenant_id"))

    op.drop_table("gateways")
