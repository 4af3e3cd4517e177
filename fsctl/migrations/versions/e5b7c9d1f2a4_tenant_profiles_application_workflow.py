"""tenant_profiles: the formal application's steps (details, documents, registered mail, returns)

Applications sent before this are waiting for their documents; verified ones are verified.

Revision ID: e5b7c9d1f2a4
Revises: d8e2a4c6b1f3
Create Date: 2026-12-07 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5b7c9d1f2a4"
down_revision = "d8e2a4c6b1f3"
branch_labels = None
depends_on = None

STATES = ("none", "waiting_documents", "documents_received", "mail_sent", "verified", "returned")


def upgrade() -> None:
    with op.batch_alter_table("tenant_profiles", schema=None) as batch_op:
        # A VARCHAR and its CHECK added apart: SQLite's batch copy cannot create the Enum's CHECK
        # together with the column it names.
        batch_op.add_column(
            sa.Column("application_state", sa.String(length=20), server_default="none", nullable=False)
        )
        for name, length in (
            ("legal_name", 200),
            ("representative", 100),
            ("postal_code", 8),
            ("address", 300),
        ):
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default="", nullable=False))
        batch_op.add_column(sa.Column("documents", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("documents_received_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("mail_tracking", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("mail_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("returned_reason", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("tenant_profiles", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "application_state", "application_state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")"
        )
    op.execute(
        "UPDATE tenant_profiles SET application_state = CASE "
        "WHEN verified_at IS NOT NULL THEN 'verified' "
        "WHEN applied_at IS NOT NULL THEN 'waiting_documents' ELSE 'none' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("tenant_profiles", schema=None) as batch_op:
        batch_op.drop_constraint("application_state", type_="check")
    with op.batch_alter_table("tenant_profiles", schema=None) as batch_op:
        for name in (
            "returned_reason",
            "mail_sent_at",
            "mail_tracking",
            "documents_received_at",
            "documents",
            "address",
            "postal_code",
            "representative",
            "legal_name",
            "application_state",
        ):
            batch_op.drop_column(name)
