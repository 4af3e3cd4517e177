"""Billing models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base, utc_now

# --- Call records and billing (fsctl/cdr/ and fsctl/billing/) ---------------------------------------
# Written by CDR intake, rating, `fsctl apply` (subscription history) and month closing; none of it is
# routing configuration, so `__tenant_config__ = False` (no config_version bump, no cache emptied).


class CallRecord(Base):
    """One call leg as mod_json_cdr/mod_xml_cdr reported it, classified at intake, rated in batches."""

    __tablename__ = "cdrs"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_cdrs_tenant_started", "tenant_id", "started_at"),
        # One user's history (the panel's user filter, a user's own page): newest first by index.
        Index("ix_cdrs_tenant_extension_started", "tenant_id", "extension", "started_at"),
        CheckConstraint("billsec >= 0 AND duration >= 0", name="seconds_not_negative"),
        CheckConstraint("leg IN ('a', 'b')", name="leg"),
        # Rating and closing rewrite every row once: free room per page lets PostgreSQL update in place.
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The leg's UUID (an `a_` prefix from prefix-a-leg stripped): a re-posted CDR is stored once.
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    leg: Mapped[str] = mapped_column(String(1), default="a")
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too: the history still shows the extension after the user is removed.
    extension: Mapped[str | None] = mapped_column(String(6))
    # The tenant's number involved: the DID called (inbound) or the caller ID presented (outbound).
    number: Mapped[str | None] = mapped_column(String(16))
    # internal, on_net, fixed, mobile, ip, toll_free, international, service, emergency, inbound,
    # feature, leg (a B leg whose call is rated on its A leg), unknown
    call_class: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))  # out, in, internal
    caller: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")
    # International: +<country code>... (the rating key); otherwise the national number or extension.
    remote: Mapped[str] = mapped_column(String(64), default="")
    gateway: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    duration: Mapped[int] = mapped_column(Integer, default=0)
    billsec: Mapped[int] = mapped_column(Integer, default=0)
    hangup_cause: Mapped[str] = mapped_column(String(40), default="")
    # Set when caller screening refused the call (fsctl.routing.screening): blocked (the tenant's
    # blocklist), withheld, payphone or unavailable (a caller without a number); NULL otherwise.
    screened: Mapped[str | None] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8), default="http")  # http, spool
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # NULL until rated (fsctl.billing.rating); then exact integer yen, tax excluded. Deliberately not
    # indexed: rating a month rewrites every row, and an index on it made that 10x slower (bench).
    charge_yen: Mapped[int | None] = mapped_column(Integer)
    # The closed statement month (YYYY-MM) this call was billed in; NULL while not yet billed.
    billed_month: Mapped[str | None] = mapped_column(String(7))


class CdrReject(Base):
    """A CDR post that could not be stored as a call record: kept with the reason, never dropped."""

    __tablename__ = "cdr_rejects"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    source: Mapped[str] = mapped_column(String(8))
    uuid: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)


class BillingAccount(Base):
    """Where a tenant's invoices go, and the paper-invoice option."""

    __tablename__ = "billing_accounts"
    __tenant_config__ = False

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    paper_invoice: Mapped[bool] = mapped_column(Boolean, default=False)


class Subscription(Base):
    """A billable thing held over a period: user, number, option; days inclusive, ended_on NULL = held."""

    __tablename__ = "billing_subscriptions"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_billing_subscriptions_tenant_item", "tenant_id", "item", "subject"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ordered_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # service (tenant active), user, number_geographic, number_ip, number_toll_free, recording, ivr,
    # paper_invoice
    item: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(32), default="")
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


class OneOffCharge(Base):
    """A one-off fee (toll-free porting, number cancellation) in the month it occurred."""

    __tablename__ = "billing_one_offs"
    __tenant_config__ = False
    __table_args__ = (Index("ix_billing_one_offs_tenant_on", "tenant_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32), default="")
    amount_yen: Mapped[int] = mapped_column(Integer)
    billed_month: Mapped[str | None] = mapped_column(String(7))


class Statement(Base):
    """A closed month's statement of one tenant; never changed after closing (late calls go to the next)."""

    __tablename__ = "statements"
    __tenant_config__ = False
    __table_args__ = (UniqueConstraint("tenant_id", "month", name="uq_statements_tenant_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    invoice_number: Mapped[str] = mapped_column(String(40), unique=True)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    subtotal_yen: Mapped[int] = mapped_column(Integer)
    tax_yen: Mapped[int] = mapped_column(Integer)
    total_yen: Mapped[int] = mapped_column(Integer)
    # The whole statement as shown (lines, tax per rate, issuer, recipient): PDFs render from this.
    document: Mapped[dict] = mapped_column(JSON)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
