"""conference rooms (number, PIN, members) and the shared phonebook per tenant

Revision ID: c3f9a2e7d5b1
Revises: f1c3e5a7b9d2
Create Date: 2026-12-07 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3f9a2e7d5b1"
down_revision = "f1c3e5a7b9d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conference_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("pin", sa.String(length=8), nullable=True),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(number) BETWEEN 2 AND 6", name=op.f("ck_conference_rooms_number_length")),
        sa.CheckConstraint(
            "max_members BETWEEN 2 AND 100", name=op.f("ck_conference_rooms_max_members_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conference_rooms_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conference_rooms")),
        sa.UniqueConstraint("tenant_id", "number", name="uq_conference_rooms_tenant_number"),
    )
    op.create_index(op.f("ix_conference_rooms_tenant_id"), "conference_rooms", ["tenant_id"], unique=False)
    op.create_table(
        "phonebook_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("numbers", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_phonebook_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phonebook_entries")),
    )
    op.create_index(
        "ix_phonebook_entries_tenant_name", "phonebook_entries", ["tenant_id", "name"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_phonebook_entries_tenant_name", table_name="phonebook_entries")
    op.drop_table("phonebook_entries")
    op.drop_index(op.f("ix_conference_rooms_tenant_id"), table_name="conference_rooms")
    op.drop_table("conference_rooms")
