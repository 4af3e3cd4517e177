"""Security models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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

# --- Security: brute-force bans, trusted sources, call caps, spend alerts (fsctl/security/) -----------
# Times of the ban machinery are epoch seconds (integers): the directory's hot-path query compares them
# with a plain parameter, identically on SQLite and PostgreSQL.


class AuthFailure(Base):
    """One failed digest authentication seen by the switch (sofia::register_attempt FORBIDDEN).

    Unique per switch event (Core-UUID, Event-Sequence): two kumo instances listening to the same switch
    store it once. Old rows are deleted by `fsctl bans purge`.
    """

    __tablename__ = "security_auth_failures"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("core_uuid", "event_sequence", name="uq_security_auth_failures_event"),
        Index("ix_security_auth_failures_ip_at", "ip", "at"),
        Index("ix_security_auth_failures_subject", "ip", "domain", "username", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    core_uuid: Mapped[str | None] = mapped_column(String(64))
    event_sequence: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[int] = mapped_column(BigInteger)
    ip: Mapped[str] = mapped_column(String(45))
    domain: Mapped[str] = mapped_column(String(253), default="")
    username: Mapped[str] = mapped_column(String(64), default="")
    # From a source trusted for that user: counts for the user+IP pair only, never for the whole IP.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="REGISTER")


class TrustedSource(Base):
    """A user registered successfully from this IP: no per-IP ban ever refuses that pair."""

    __tablename__ = "security_trusted_sources"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("ip", "domain", "username", name="uq_security_trusted_sources_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(45))
    domain: Mapped[str] = mapped_column(String(253))
    username: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)


class Ban(Base):
    """A source refused until `until` (epoch s): a whole IP (domain = username = '') or one user+IP pair."""

    __tablename__ = "security_bans"
    __tenant_config__ = False
    __table_args__ = (UniqueConstraint("ip", "domain", "username", name="uq_security_bans_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(45))
    domain: Mapped[str] = mapped_column(String(253), default="")
    username: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[int] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")


class TenantCallLimits(Base):
    """Operator caps on a tenant's external calls beyond the channel plan; no row = platform defaults.

    Routing configuration (bumps config_version): the dialplan renders these as `limit hash` actions.
    """

    __tablename__ = "security_tenant_limits"
    __table_args__ = (
        CheckConstraint("calls_per_interval >= 0 AND interval_seconds >= 1", name="rate_range"),
        CheckConstraint("user_external_calls >= 0", name="user_calls_not_negative"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    # External call attempts allowed per interval (limit hash ... N/interval); 0 = no rate cap.
    calls_per_interval: Mapped[int] = mapped_column(Integer, default=2)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=1)
    # Concurrent external calls one extension may hold; 0 = only the tenant's channel plan applies.
    user_external_calls: Mapped[int] = mapped_column(Integer, default=0)
    # Outbound charges in any 5-minute window above this raise an alert; NULL = only the 5x-usual rule.
    spend_cap_yen: Mapped[int | None] = mapped_column(Integer)
    # On a spend alert, also stop external calls until an operator or the tenant re-enables them.
    suspend_on_alert: Mapped[bool] = mapped_column(Boolean, default=False)
    external_suspended: Mapped[bool] = mapped_column(Boolean, default=False)


class SecurityEvent(Base):
    """What the defences did (ban, lift, spend alert, suspension), for the panel and the operator."""

    __tablename__ = "security_events"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_security_events_tenant_at", "tenant_id", "at"),
        UniqueConstraint("tenant_id", "kind", "window_start", name="uq_security_events_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # Spend alerts: the 5-minute window they cover (epoch s of its start), so one window alerts once.
    window_start: Mapped[int | None] = mapped_column(BigInteger)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
