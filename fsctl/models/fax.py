"""FAX to e-mail: the tenant's numbers that receive faxes, and the faxes they received.

A fax number is configuration (routing reads it; it bumps the tenant's config_version like every row
with a tenant_id); a received fax is an event's record, not configuration (`__tenant_config__ = False`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base


class FaxNumber(Base):
    """One of the tenant's outside numbers answered by the fax receiver (mod_spandsp rxfax) instead of
    a destination; each fax it receives is mailed as PDF to `emails` (addresses joined by spaces)."""

    __tablename__ = "fax_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # National form; unique on the platform (a number belongs to one tenant at a time).
    number: Mapped[str] = mapped_column(String(16), unique=True)
    emails: Mapped[str] = mapped_column(String(1000), default="")


class FaxMessage(Base):
    """One fax call to a fax number, received or failed, learnt from the call's CDR (fsctl.fax.intake)."""

    __tablename__ = "fax_messages"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_fax_messages_tenant_received", "tenant_id", "received_at"),
        CheckConstraint("pages >= 0", name="pages_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # The receiving leg's uuid: a CDR posted twice (or imported from the spool) records one fax.
    call_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(16))  # the tenant's fax number it came to
    sender: Mapped[str] = mapped_column(String(64), default="")  # the caller's number
    remote_station_id: Mapped[str] = mapped_column(String(64), default="")  # the sender's TSI
    pages: Mapped[int] = mapped_column(Integer, default=0)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    result_code: Mapped[int] = mapped_column(Integer, default=0)
    result_text: Mapped[str] = mapped_column(String(200), default="")
    t38: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The switch's TIFF and kumo's PDF; empty once removed (nothing received, or past retention).
    tiff_path: Mapped[str] = mapped_column(String(1024), default="")
    pdf_path: Mapped[str] = mapped_column(String(1024), default="")
    pdf_size: Mapped[int] = mapped_column(Integer, default=0)
    mailed_to: Mapped[str] = mapped_column(String(1000), default="")
    mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it was not mailed: no SMTP configured, no addresses, the server refused...
    mail_error: Mapped[str] = mapped_column(String(500), default="")
