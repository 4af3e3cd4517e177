"""Gateways models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fsctl.models.base import Base, destination_fk, enum_type, node_column, utc_now

if TYPE_CHECKING:
    from fsctl.models.tenancy import Destination

# --- Customer gateways: existing numbers kept through a gateway, channel plans (fsctl/gateways/)
# A tenant's own gateway ("32Gateway") brings the tenant's existing lines into kumo. The numbers it
# carries are NOT the platform's inventory (`numbers`): they are the customer's, billed by the
# customer's carrier, never free for another tenant to claim, never charged 100 yen. They live in
# `gateway_numbers`, one row per number, globally unique, and route like a DID of the tenant. Every
# row here is routing configuration and carries tenant_id, so fsctl.db bumps the config version.


class GatewayAuth(enum.StrEnum):
    CREDENTIALS = "credentials"  # registers like a phone: digest against a1_hash
    ADDRESS = "address"  # static address: admitted by the switch's ACL (cidr), reached at address:port


class Gateway(Base):
    """A customer's gateway: how it authenticates, where it is reached, its channel plan."""

    __tablename__ = "gateways"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_gateways_tenant_name"),
        CheckConstraint("channels IN (4, 8, 16, 32)", name="channel_plan"),
        CheckConstraint(
            "(auth = 'credentials' AND a1_hash IS NOT NULL AND length(a1_hash) = 32)"
            " OR (auth = 'address' AND cidr IS NOT NULL AND address IS NOT NULL)",
            name="auth_complete",
        ),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        # Kamailio finds a static gateway's tenant node by the source address (kamailio_gateway_routes).
        Index("ix_gateways_address", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # Lower-case, starts with a letter: it is also the SIP username, so it never equals an extension.
    name: Mapped[str] = mapped_column(String(32))
    auth: Mapped[GatewayAuth] = mapped_column(enum_type(GatewayAuth, "gateway_auth"))
    # md5("name:domain:password"), like users; only for auth = credentials.
    a1_hash: Mapped[str | None] = mapped_column(String(32))
    # auth = address: who may send calls (ACL, comma separated CIDRs) and where calls to it go.
    cidr: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    port: Mapped[int] = mapped_column(Integer, default=5060)
    channels: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    numbers: Mapped[list[GatewayNumber]] = relationship(
        back_populates="gateway", cascade="all, delete-orphan", order_by="GatewayNumber.national"
    )


class GatewayNumber(Base):
    """A customer's existing number carried by its gateway; inbound calls to it route like a DID."""

    __tablename__ = "gateway_numbers"
    __table_args__ = (
        CheckConstraint("e164 LIKE '+81%'", name="e164_japan"),
        CheckConstraint("national LIKE '0%'", name="national_leading_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"), index=True)
    national: Mapped[str] = mapped_column(String(16), unique=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    destination_id: Mapped[int | None] = destination_fk()

    gateway: Mapped[Gateway] = relationship(back_populates="numbers")
    destination: Mapped[Destination | None] = relationship(foreign_keys=[destination_id])


class OutboundRoute(Base):
    """Which way a tenant's external calls leave: user_id NULL = the tenant's default, else one user's
    override; gateway_id NULL = the platform's carrier, else that gateway of the tenant."""

    __tablename__ = "outbound_routes"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", name="uq_outbound_routes_tenant_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"))


class GatewayRefusal(Base):
    """A call refused by a gateway's channel plan (counted from CHANNEL_HANGUP_COMPLETE; the panel shows it)."""

    __tablename__ = "gateway_refusals"
    __tenant_config__ = False
    __table_args__ = (Index("ix_gateway_refusals_gateway_at", "gateway_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    call_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(8), default="")  # in, out
    caller: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")


class GatewayChannel(Base):
    """A channel holding one of a gateway's plan channels now (its `limit` passed; gone at hang-up).

    Live state: the panel counts only rows whose channel is still in live_calls, which
    the ESL service rebuilds from the switch after a reconnect, so a hang-up missed while away never
    leaves a channel counted for ever.
    """

    __tablename__ = "gateway_channels"
    __tenant_config__ = False
    __table_args__ = (Index("ix_gateway_channels_gateway", "gateway_id"),)

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8), default="")  # in, out
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    node: Mapped[str] = node_column()
