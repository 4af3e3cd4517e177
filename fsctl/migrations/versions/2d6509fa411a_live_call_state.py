"""Live call state (issue 4): registrations, live calls, ringing calls, parked calls

Revision ID: 2d6509fa411a
Revises: 3eca346b8c7f
Create Date: 2026-11-25 15:17:37.241768
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2d6509fa411a"
down_revision = "3eca346b8c7f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_calls",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=128), nullable=False),
        sa.Column("destination", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("other_uuid", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_live_calls_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_live_calls")),
    )
    with op.batch_alter_table("live_calls", schema=None) as batch_op:
        batch_op.create_index("ix_live_calls_tenant", ["tenant_id"], unique=False)

    op.create_table(
        "live_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("contact", sa.String(length=500), nullable=False),
        sa.Column("network_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_live_registrations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_registrations")),
        sa.UniqueConstraint("tenant_id", "extension", "call_id", name="uq_live_registrations_device"),
    )
    with op.batch_alter_table("live_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_live_registrations_tenant_extension", ["tenant_id", "extension"], unique=False
        )

    op.create_table(
        "parked_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("lot", sa.String(length=300), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=128), nullable=False),
        sa.Column("parked_by", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rang_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_parked_calls_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_calls")),
        sa.UniqueConstraint("tenant_id", "slot", name="uq_parked_calls_slot"),
    )
    with op.batch_alter_table("parked_calls", schema=None) as batch_op:
        batch_op.create_index("ix_parked_calls_tenant", ["tenant_id"], unique=False)

    op.create_table(
        "ringing_calls",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=False),
        sa.Column("caller_uuid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ringing_calls_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_ringing_calls")),
    )
    with op.batch_alter_table("ringing_calls", schema=None) as batch_op:
        batch_op.create_index("ix_ringing_calls_tenant_extension", ["tenant_id", "extension"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ringing_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_ringing_calls_tenant_extension")

    op.drop_table("ringing_calls")
    with op.batch_alter_table("parked_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_calls_tenant")

    op.drop_table("parked_calls")
    with op.batch_alter_table("live_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_live_registrations_tenant_extension")

    op.drop_table("live_registrations")
    with op.batch_alter_table("live_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_live_calls_tenant")

    op.drop_table("live_calls")
