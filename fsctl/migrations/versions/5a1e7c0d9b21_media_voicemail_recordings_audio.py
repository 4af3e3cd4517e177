"""media: voicemail messages, call recordings, recording retention, audio files (issue 5)

Revision ID: 5a1e7c0d9b21
Revises: 0c8a6cb66f5a
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1e7c0d9b21"
down_revision = "0c8a6cb66f5a"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "voicemail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=6), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.String(length=1024), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=True),
        sa.Column("folder", sa.String(length=8), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("folder IN ('new', 'saved')", name="ck_voicemail_messages_folder"),
        _tenant_fk("voicemail_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_voicemail_messages"),
        sa.UniqueConstraint("tenant_id", "file_path", name="uq_voicemail_messages_tenant_file"),
    )
    op.create_index(
        "ix_voicemail_messages_box", "voicemail_messages", ["tenant_id", "mailbox", "received_at"]
    )
    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("user_extension", sa.String(length=6), nullable=True),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("callee", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.String(length=1024), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        _tenant_fk("call_recordings"),
        sa.PrimaryKeyConstraint("id", name="pk_call_recordings"),
        sa.UniqueConstraint("tenant_id", "file_path", name="uq_call_recordings_tenant_file"),
    )
    op.create_index("ix_call_recordings_call_uuid", "call_recordings", ["call_uuid"])
    op.create_index("ix_call_recordings_tenant_started", "call_recordings", ["tenant_id", "started_at"])
    op.create_table(
        "recording_retention",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.CheckConstraint("days BETWEEN 1 AND 3650", name="ck_recording_retention_days_range"),
        _tenant_fk("recording_retention"),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_recording_retention"),
    )
    op.create_table(
        "audio_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("audio_files"),
        sa.PrimaryKeyConstraint("id", name="pk_audio_files"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_audio_files_tenant_name"),
    )


def downgrade() -> None:
    op.drop_table("audio_files")
    op.drop_table("recording_retention")
    op.drop_index("ix_call_recordings_tenant_started", table_name="call_recordings")
    op.drop_index("ix_call_recordings_call_uuid", table_name="call_recordings")
    op.drop_table("call_recordings")
    op.drop_index("ix_voicemail_messages_box", table_name="voicemail_messages")
    op.drop_table("voicemail_messages")
