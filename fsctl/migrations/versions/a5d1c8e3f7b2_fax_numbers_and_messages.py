"""FAX to e-mail: the tenant's fax numbers (addresses to mail) and the faxes received

Revision ID: a5d1c8e3f7b2
Revises: f3a9c2e7b1d5
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a5d1c8e3f7b2"
down_revision = "f3a9c2e7b1d5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fax_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("emails", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_fax_numbers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fax_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_fax_numbers_number")),
    )
    op.create_index(op.f("ix_fax_numbers_tenant_id"), "fax_numbers", ["tenant_id"], unique=False)
    op.create_table(
        "fax_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("remote_station_id", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("result_code", sa.Integer(), nullable=False),
        sa.Column("result_text", sa.String(length=200), nullable=False),
        sa.Column("t38", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tiff_path", sa.String(length=1024), nullable=False),
        sa.Column("pdf_path", sa.String(length=1024), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("mailed_to", sa.String(length=1000), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_error", sa.String(length=500), nullable=False),
        sa.CheckConstraint("pages >= 0", name=op.f("ck_fax_messages_pages_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_fax_messages_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fax_messages")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_fax_messages_call_uuid")),
    )
    op.create_index(
        "ix_fax_messages_tenant_received", "fax_messages", ["tenant_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_fax_messages_tenant_received", table_name="fax_messages")
    op.drop_table("fax_messages")
    op.drop_index(op.f("ix_fax_numbers_tenant_id"), table_name="fax_numbers")
    op.drop_table("fax_numbers")
