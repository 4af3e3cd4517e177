"""Live models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base, node_column, utc_now


# --- Live call state (fsctl/esl/): written by the ESL service from events, rebuilt from the
# switch after every reconnect, read by the panel. Written with Core statements, never through an ORM
# session, so live traffic never bumps config_version (and `__tenant_config__ = False` says so too).
# Every row records the FreeSWITCH node it lives on (`node`: the switchname, the event header
# FreeSWITCH-Switchname; "" for rows written before nodes were recorded), so a reconnection to one node
# rebuilds that node's rows only (fsctl.esl.handlers) and a command about a call goes to its node
# (fsctl.esl.nodes).
class LiveRegistration(Base):
    """A device online for a user (sofia::register; gone on unregister/expire or when expires_at passes).

    One row per registered contact (fsctl.esl.handlers.Registrations): a re-register under a new
    Call-ID replaces the row, as mod_sofia replaces its own. The contact stays unique across nodes:
    a phone that re-registers on another node (its tenant moved) keeps one row, its newest."""

    __tablename__ = "live_registrations"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("tenant_id", "extension", "contact", name="uq_live_registrations_contact"),
        Index("ix_live_registrations_tenant_extension", "tenant_id", "extension"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(500), default="")
    network_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    node: Mapped[str] = node_column()


class LiveCall(Base):
    """One leg of a call in progress (CHANNEL_CREATE .. CHANNEL_HANGUP_COMPLETE)."""

    __tablename__ = "live_calls"
    __tenant_config__ = False
    __table_args__ = (Index("ix_live_calls_tenant", "tenant_id"),)

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # NULL while a carrier leg is not yet routed to a tenant (set when it bridges to a tenant's leg).
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    call_uuid: Mapped[str] = mapped_column(String(64), default="")
    # The switch's view of the leg: inbound = from a phone or the carrier, outbound = to one.
    direction: Mapped[str] = mapped_column(String(16), default="")
    extension: Mapped[str] = mapped_column(String(64), default="")
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    destination: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[str] = mapped_column(String(16), default="routing")  # routing ringing answered bridged
    # The leg holds one of the tenant's contracted outside channels (`limit hash kumo_external`).
    external: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    other_uuid: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    node: Mapped[str] = node_column()


class RingingCall(Base):
    """A call ringing on an extension (for pickup): the ringing leg and the caller's leg to intercept."""

    __tablename__ = "ringing_calls"
    __tenant_config__ = False
    __table_args__ = (Index("ix_ringing_calls_tenant_extension", "tenant_id", "extension"),)

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(64))
    caller_uuid: Mapped[str] = mapped_column(String(64), default="")
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    node: Mapped[str] = node_column()


class ParkedCall(Base):
    """A call waiting in a park slot (valet_parking::info hold; gone on bridge/exit)."""

    __tablename__ = "parked_calls"
    __tenant_config__ = False
    __table_args__ = (
        # Park lots are node-local in FreeSWITCH: slot 701 of a tenant on node A and on node B (while
        # the tenant moves) are two calls.
        UniqueConstraint("tenant_id", "node", "slot", name="uq_parked_calls_node_slot"),
        Index("ix_parked_calls_tenant", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(16))
    lot: Mapped[str] = mapped_column(String(300))
    uuid: Mapped[str] = mapped_column(String(64))
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    # Extension that parked it (rung back when it waits too long); "" when unknown.
    parked_by: Mapped[str] = mapped_column(String(64), default="")
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # Set when the ring-back to parked_by was started, so it is done once.
    rang_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    node: Mapped[str] = node_column()
