"""Media models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base, utc_now

# --- Media: voicemail messages, call recordings, uploaded audio (fsctl/media/) ----------------------
# These rows are written from switch events and uploads, not tenant configuration: marked
# `__tenant_config__ = False` so fsctl.db does not bump config_version (no lookup cache is emptied).


class VoicemailMessage(Base):
    """One message left in a mailbox, indexed from mod_voicemail's `vm::maintenance` events."""

    __tablename__ = "voicemail_messages"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("tenant_id", "file_path", name="uq_voicemail_messages_tenant_file"),
        Index("ix_voicemail_messages_box", "tenant_id", "mailbox", "received_at"),
        CheckConstraint("folder IN ('new', 'saved')", name="folder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    mailbox: Mapped[str] = mapped_column(String(6))
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    file_path: Mapped[str] = mapped_column(String(1024))
    call_uuid: Mapped[str | None] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(8), default="new")
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CallRecording(Base):
    """One finished call recording (record_session), indexed from RECORD_STOP."""

    __tablename__ = "call_recordings"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("tenant_id", "file_path", name="uq_call_recordings_tenant_file"),
        Index("ix_call_recordings_tenant_started", "tenant_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    user_extension: Mapped[str | None] = mapped_column(String(6))
    caller: Mapped[str] = mapped_column(String(64), default="")
    callee: Mapped[str] = mapped_column(String(64), default="")
    direction: Mapped[str] = mapped_column(String(16), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    file_path: Mapped[str] = mapped_column(String(1024))
    file_size: Mapped[int] = mapped_column(Integer, default=0)


class RecordingRetention(Base):
    """How many days a tenant's recordings are kept (no row = the platform default)."""

    __tablename__ = "recording_retention"
    __tenant_config__ = False
    __table_args__ = (CheckConstraint("days BETWEEN 1 AND 3650", name="days_range"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)


class AudioFile(Base):
    """An uploaded greeting/announcement/prompt, converted to 8 and 16 kHz mono WAV under the tenant's root."""

    __tablename__ = "audio_files"
    __tenant_config__ = False
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_audio_files_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
