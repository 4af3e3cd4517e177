"""Conference rooms and the shared phonebook: per-tenant configuration routing reads (both bump the
tenant's config_version through fsctl.db like every row with a tenant_id)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base


class ConferenceRoom(Base):
    """A room callers join by dialling its number (an extension-like number of the tenant), with an
    optional PIN and a cap on members. The switch's conference is named `<number>-<domain>`, so two
    tenants' rooms 800 never meet."""

    __tablename__ = "conference_rooms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_conference_rooms_tenant_number"),
        CheckConstraint("length(number) BETWEEN 2 AND 6", name="number_length"),
        CheckConstraint("max_members BETWEEN 2 AND 100", name="max_members_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(100), default="")
    # Digits only, 4 to 8; None = no PIN asked.
    pin: Mapped[str | None] = mapped_column(String(8))
    max_members: Mapped[int] = mapped_column(Integer, default=10)


class PhonebookEntry(Base):
    """One entry of the tenant's shared phonebook. `numbers` is the national numbers joined by
    spaces (at most a few per entry); a carrier call from one of them shows `name` on the phones."""

    __tablename__ = "phonebook_entries"
    __table_args__ = (Index("ix_phonebook_entries_tenant_name", "tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    numbers: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
