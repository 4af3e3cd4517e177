"""The one SQLAlchemy 2 model of kumo, shared by the service and the panel (no Flask here).

Constraints that matter live in the database (CHECK, UNIQUE, FOREIGN KEY), not only in Python.
Every table that belongs to a tenant carries `tenant_id`, and every change to such a row bumps
`tenants.config_version` (see fsctl.db), which is what the lookup caches key on.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantStatus(enum.StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Direction(enum.StrEnum):
    BOTH = "both"
    INBOUND_ONLY = "inbound_only"
    OUTBOUND_ONLY = "outbound_only"


class NumberKind(enum.StrEnum):
    GEOGRAPHIC = "geographic"
    IP = "ip"  # 050
    TOLL_FREE = "toll_free"  # 0120 / 0800


class RingStrategy(enum.StrEnum):
    SIMULTANEOUS = "simultaneous"
    SEQUENTIAL = "sequential"


class DestinationKind(enum.StrEnum):
    USER = "user"
    RING_GROUP = "ring_group"
    IVR = "ivr"
    SCHEDULE = "schedule"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    HANGUP = "hangup"
    # Play one of the tenant's uploaded audio files; from an IVR option, then back to that menu.
    ANNOUNCEMENT = "announcement"


# Which column holds each destination kind's target (None: the kind has no target).
DESTINATION_TARGET_COLUMN: dict[str, str | None] = {
    "user": "user_id",
    "voicemail": "user_id",
    "ring_group": "ring_group_id",
    "ivr": "ivr_menu_id",
    "schedule": "schedule_id",
    "external": "external_number",
    "announcement": "announcement",
    "hangup": None,
}


def _one_target_check() -> str:
    """Each kind sets exactly its own target column and leaves every other one NULL."""
    columns = sorted({c for c in DESTINATION_TARGET_COLUMN.values() if c})
    terms = []
    for kind, own in DESTINATION_TARGET_COLUMN.items():
        parts = [f"kind = '{kind}'"]
        parts += [f"{c} IS NOT NULL" if c == own else f"{c} IS NULL" for c in columns]
        terms.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(terms)


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    # native_enum=False: a VARCHAR + CHECK on both SQLite and PostgreSQL, so adding a value later
    # is an ordinary migration instead of ALTER TYPE.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Tenant(Base):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("max_external_channels >= 0", name="channels_not_negative"),
        CheckConstraint("domain = lower(domain)", name="domain_lowercase"),
        CheckConstraint("config_version >= 1", name="config_version_positive"),
        CheckConstraint("language IN ('ja', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    # What callers hear: kumo's prompts and mod_voicemail's phrases in "ja" or "en" (fsctl.media.phrase_macros).
    language: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")
    status: Mapped[TenantStatus] = mapped_column(
        _enum(TenantStatus, "tenant_status"), default=TenantStatus.TRIAL
    )
    trial_started_on: Mapped[dt.date] = mapped_column(Date, default=lambda: dt.date.today())
    international_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    max_external_channels: Mapped[int] = mapped_column(Integer, default=2)
    # Operator allowances for prefixes that are blocked by default (DECISIONS 12): "0570", "0990" ...
    allowed_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Bumped on every committed change to the tenant's configuration; lookup caches key on it.
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    users: Mapped[list[User]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="User.extension"
    )
    numbers: Mapped[list[Number]] = relationship(back_populates="tenant", order_by="Number.national")
    ring_groups: Mapped[list[RingGroup]] = relationship(
        cascade="all, delete-orphan", order_by="RingGroup.name"
    )
    schedules: Mapped[list[Schedule]] = relationship(cascade="all, delete-orphan", order_by="Schedule.name")
    ivr_menus: Mapped[list[IvrMenu]] = relationship(cascade="all, delete-orphan", order_by="IvrMenu.name")
    park_ranges: Mapped[list[ParkRange]] = relationship(cascade="all, delete-orphan")
    destinations: Mapped[list[Destination]] = relationship(cascade="all, delete-orphan")


class Destination(Base):
    """Where a call goes: one row, one kind, exactly the one matching target set.

    Numbers, schedules, ring groups, IVR options and forwarding all point at a destination row, so a
    user, group, menu or schedule that is still a destination cannot be deleted (RESTRICT).
    """

    __tablename__ = "destinations"
    __table_args__ = (CheckConstraint(_one_target_check(), name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DestinationKind] = mapped_column(_enum(DestinationKind, "destination_kind"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    ring_group_id: Mapped[int | None] = mapped_column(ForeignKey("ring_groups.id", use_alter=True))
    ivr_menu_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id", use_alter=True))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", use_alter=True))
    external_number: Mapped[str | None] = mapped_column(String(32))
    # An audio name of the tenant's uploads (fsctl.media.audio), for kind announcement.
    announcement: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    ring_group: Mapped[RingGroup | None] = relationship(foreign_keys=[ring_group_id])
    ivr_menu: Mapped[IvrMenu | None] = relationship(foreign_keys=[ivr_menu_id])
    schedule: Mapped[Schedule | None] = relationship(foreign_keys=[schedule_id])


def _destination_fk() -> Mapped[int | None]:
    # Destinations point back at users, groups, menus and schedules: the relationships using these
    # columns are post_update, so the ORM writes the cycle as INSERT then UPDATE.
    return mapped_column(ForeignKey("destinations.id", ondelete="SET NULL", use_alter=True))


class User(Base):
    """One extension = one SIP account = one billable device (DECISIONS 1)."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "extension", name="uq_users_tenant_extension"),
        CheckConstraint("length(extension) BETWEEN 2 AND 6", name="extension_length"),
        CheckConstraint("length(a1_hash) = 32", name="a1_hash_md5"),
        CheckConstraint("ring_seconds BETWEEN 5 AND 300", name="ring_seconds_range"),
        CheckConstraint("forward_no_answer_seconds BETWEEN 5 AND 300", name="no_answer_seconds_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(100))
    # md5("extension:domain:password") — the only form of the SIP password kept anywhere.
    a1_hash: Mapped[str] = mapped_column(String(32))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "user_direction"), default=Direction.BOTH)
    # Number presented on external calls; must be one of the tenant's numbers (checked on save).
    caller_id: Mapped[str | None] = mapped_column(String(32))
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    voicemail_pin: Mapped[str | None] = mapped_column(String(12))
    voicemail_email: Mapped[str | None] = mapped_column(String(254))
    voicemail_attach_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Personal (per-device) time-of-day schedule; outside it the user does not ring.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    forward_always_id: Mapped[int | None] = _destination_fk()
    forward_busy_id: Mapped[int | None] = _destination_fk()
    forward_no_answer_id: Mapped[int | None] = _destination_fk()
    forward_no_answer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    forward_unregistered_id: Mapped[int | None] = _destination_fk()

    tenant: Mapped[Tenant] = relationship(back_populates="users")
    schedule: Mapped[Schedule | None] = relationship(foreign_keys=[schedule_id])
    forward_always: Mapped[Destination | None] = relationship(
        foreign_keys=[forward_always_id], post_update=True
    )
    forward_busy: Mapped[Destination | None] = relationship(foreign_keys=[forward_busy_id], post_update=True)
    forward_no_answer: Mapped[Destination | None] = relationship(
        foreign_keys=[forward_no_answer_id], post_update=True
    )
    forward_unregistered: Mapped[Destination | None] = relationship(
        foreign_keys=[forward_unregistered_id], post_update=True
    )


class Number(Base):
    """The platform's number inventory; a number is free while tenant_id is NULL."""

    __tablename__ = "numbers"
    __table_args__ = (
        CheckConstraint("e164 LIKE '+81%'", name="e164_japan"),
        CheckConstraint("national LIKE '0%'", name="national_leading_zero"),
        CheckConstraint("tenant_id IS NOT NULL OR destination_id IS NULL", name="free_has_no_destination"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    national: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[NumberKind] = mapped_column(_enum(NumberKind, "number_kind"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    destination_id: Mapped[int | None] = _destination_fk()
    ivr_option: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant | None] = relationship(back_populates="numbers")
    destination: Mapped[Destination | None] = relationship(foreign_keys=[destination_id])


class RingGroup(Base):
    __tablename__ = "ring_groups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_ring_groups_tenant_name"),
        CheckConstraint("ring_seconds BETWEEN 5 AND 600", name="ring_seconds_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[RingStrategy] = mapped_column(
        _enum(RingStrategy, "ring_strategy"), default=RingStrategy.SIMULTANEOUS
    )
    # Simultaneous: how long all phones ring. Sequential: how long each member rings.
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    no_answer_id: Mapped[int | None] = _destination_fk()

    members: Mapped[list[RingGroupMember]] = relationship(
        cascade="all, delete-orphan", order_by="RingGroupMember.position"
    )
    no_answer: Mapped[Destination | None] = relationship(foreign_keys=[no_answer_id], post_update=True)


class RingGroupMember(Base):
    __tablename__ = "ring_group_members"
    __table_args__ = (UniqueConstraint("ring_group_id", "position", name="uq_ring_group_members_position"),)

    ring_group_id: Mapped[int] = mapped_column(
        ForeignKey("ring_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship()


class Schedule(Base):
    """Weekly open periods, holidays and closures; open -> open destination, closed -> announcement + closed."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_schedules_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    # Japanese national holidays (incl. substitute and citizens' holidays) count as closed.
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # Saving is refused while the open periods leave part of the week uncovered.
    full_coverage: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Audio file played when closed (tenant upload); None = the platform's default announcement.
    closed_announcement: Mapped[str | None] = mapped_column(String(255))
    open_destination_id: Mapped[int | None] = _destination_fk()
    closed_destination_id: Mapped[int | None] = _destination_fk()

    periods: Mapped[list[SchedulePeriod]] = relationship(
        cascade="all, delete-orphan", order_by="(SchedulePeriod.weekday, SchedulePeriod.start_minute)"
    )
    closures: Mapped[list[ScheduleClosure]] = relationship(
        cascade="all, delete-orphan", order_by="ScheduleClosure.first_day"
    )
    open_destination: Mapped[Destination | None] = relationship(
        foreign_keys=[open_destination_id], post_update=True
    )
    closed_destination: Mapped[Destination | None] = relationship(
        foreign_keys=[closed_destination_id], post_update=True
    )


class SchedulePeriod(Base):
    """An open period starting on `weekday` (0 = Monday); end_minute may exceed 1440 (crosses midnight)."""

    __tablename__ = "schedule_periods"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_range"),
        CheckConstraint("end_minute > start_minute AND end_minute <= start_minute + 1440", name="end_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class ScheduleClosure(Base):
    """Company closure days (e.g. 12/29-1/3), inclusive, in the tenant's timezone."""

    __tablename__ = "schedule_closures"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="ordered_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100), default="")


class IvrMenu(Base):
    __tablename__ = "ivr_menus"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_ivr_menus_tenant_name"),
        CheckConstraint("timeout_seconds BETWEEN 1 AND 60", name="timeout_range"),
        CheckConstraint("max_attempts BETWEEN 1 AND 10", name="attempts_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    greeting: Mapped[str | None] = mapped_column(String(255))
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=5)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    timeout_destination_id: Mapped[int | None] = _destination_fk()

    options: Mapped[list[IvrOption]] = relationship(cascade="all, delete-orphan", order_by="IvrOption.digit")
    timeout_destination: Mapped[Destination | None] = relationship(
        foreign_keys=[timeout_destination_id], post_update=True
    )


class IvrOption(Base):
    __tablename__ = "ivr_options"
    __table_args__ = (
        CheckConstraint("digit IN ('0','1','2','3','4','5','6','7','8','9','*','#')", name="digit"),
    )

    ivr_menu_id: Mapped[int] = mapped_column(ForeignKey("ivr_menus.id", ondelete="CASCADE"), primary_key=True)
    digit: Mapped[str] = mapped_column(String(1), primary_key=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", use_alter=True))

    destination: Mapped[Destination] = relationship(foreign_keys=[destination_id])


class ParkRange(Base):
    __tablename__ = "park_ranges"
    __table_args__ = (
        CheckConstraint("last_slot >= first_slot", name="ordered_slots"),
        CheckConstraint("first_slot >= 0", name="slot_not_negative"),
        UniqueConstraint("tenant_id", "first_slot", name="uq_park_ranges_tenant_first"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    first_slot: Mapped[int] = mapped_column(Integer)
    last_slot: Mapped[int] = mapped_column(Integer)


class AuditEntry(Base):
    """Who changed what, when (DECISIONS 22)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=func.now())
    actor: Mapped[str] = mapped_column(String(120))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


TENANT_SCOPED_MODELS = (User, Destination, RingGroup, Schedule, IvrMenu, ParkRange)


# ---------------------------------------------------------------------------------------------------
# webpanel: panel accounts, API tokens, login attempts, the sign-up profile, platform settings.
# None of these is routing configuration: `__tenant_config__ = False` keeps fsctl.db from bumping
# tenants.config_version (and so emptying every lookup cache) when someone merely logs in.


class AccountRole(enum.StrEnum):
    OPERATOR = "operator"  # the platform operator: every tenant, the inventory, platform settings
    ADMIN = "admin"  # a tenant's administrator: everything of that tenant
    USER = "user"  # a tenant user: the settings of their own extension only


class PanelAccount(Base):
    """A person who signs in to the panel (not a SIP account; see User)."""

    __tablename__ = "panel_accounts"
    __tenant_config__ = False
    __table_args__ = (
        CheckConstraint("role = 'operator' OR tenant_id IS NOT NULL", name="tenant_role_has_tenant"),
        CheckConstraint("role <> 'user' OR user_id IS NOT NULL", name="user_role_has_extension"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # argon2id encoded hash (argon2-cffi), never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AccountRole] = mapped_column(_enum(AccountRole, "account_role"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # A tenant user's own extension; removing the extension removes the login.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's fingerprint: bumped by sign-out, so a copied cookie dies with it (issue 15).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A disabled account cannot sign in, reset its password, or keep a session.
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TenantProfile(Base):
    """Who signed the tenant up, and the formal application the operator verifies (DECISIONS 10)."""

    __tablename__ = "tenant_profiles"
    __tenant_config__ = False

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    contact_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    application_note: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(120))


class ApiToken(Base):
    """A tenant's API token; only its SHA-256 is stored (the token is shown once)."""

    __tablename__ = "api_tokens"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Every sign-in attempt; rate limiting counts recent failures here, shared by all panel processes."""

    __tablename__ = "login_attempts"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class PlatformSetting(Base):
    """Operator-maintained platform settings (SIP domain suffix, SIP server name, ...), key -> text."""

    __tablename__ = "platform_settings"
    __tenant_config__ = False

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


# --- Call records and billing (issue 7, fsctl/cdr/ and fsctl/billing/) ------------------------------
# Written by CDR intake, rating, `fsctl apply` (subscription history) and month closing; none of it is
# routing configuration, so `__tenant_config__ = False` (no config_version bump, no cache emptied).


class CallRecord(Base):
    """One call leg as mod_json_cdr/mod_xml_cdr reported it, classified at intake, rated in batches."""

    __tablename__ = "cdrs"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_cdrs_tenant_started", "tenant_id", "started_at"),
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
    source: Mapped[str] = mapped_column(String(8), default="http")  # http, spool
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
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
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    source: Mapped[str] = mapped_column(String(8))
    uuid: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)


class BillingAccount(Base):
    """Where a tenant's invoices go, and the paper-invoice option (DECISIONS 11)."""

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
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    subtotal_yen: Mapped[int] = mapped_column(Integer)
    tax_yen: Mapped[int] = mapped_column(Integer)
    total_yen: Mapped[int] = mapped_column(Integer)
    # The whole statement as shown (lines, tax per rate, issuer, recipient): PDFs render from this.
    document: Mapped[dict] = mapped_column(JSON)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- Media: voicemail messages, call recordings, uploaded audio (issue 5, fsctl/media/) -------------
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
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --- Live call state (issue 4, fsctl/esl/): written by the ESL service from events, rebuilt from the
# switch after every reconnect, read by the panel. Written with Core statements, never through an ORM
# session, so live traffic never bumps config_version (and `__tenant_config__ = False` says so too).
class LiveRegistration(Base):
    """A device online for a user (sofia::register; gone on unregister/expire or when expires_at passes).

    One row per registered contact (fsctl.esl.handlers.Registrations): a re-register under a new
    Call-ID replaces the row, as mod_sofia replaces its own."""

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
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


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
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ParkedCall(Base):
    """A call waiting in a park slot (valet_parking::info hold; gone on bridge/exit)."""

    __tablename__ = "parked_calls"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("tenant_id", "slot", name="uq_parked_calls_slot"),
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
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # Set when the ring-back to parked_by was started, so it is done once.
    rang_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- Customer gateways: existing numbers kept through a gateway, channel plans (issue 8, fsctl/gateways/)
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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # Lower-case, starts with a letter: it is also the SIP username, so it never equals an extension.
    name: Mapped[str] = mapped_column(String(32))
    auth: Mapped[GatewayAuth] = mapped_column(_enum(GatewayAuth, "gateway_auth"))
    # md5("name:domain:password"), like users; only for auth = credentials.
    a1_hash: Mapped[str | None] = mapped_column(String(32))
    # auth = address: who may send calls (ACL, comma separated CIDRs) and where calls to it go.
    cidr: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    port: Mapped[int] = mapped_column(Integer, default=5060)
    channels: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

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
    destination_id: Mapped[int | None] = _destination_fk()

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
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    call_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(8), default="")  # in, out
    caller: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")


class GatewayChannel(Base):
    """A channel holding one of a gateway's plan channels now (its `limit` passed; gone at hang-up).

    Live state (DECISIONS 5): the panel counts only rows whose channel is still in live_calls, which
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
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --- Security: brute-force bans, trusted sources, call caps, spend alerts (issue 9, fsctl/security/) --
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
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # Spend alerts: the 5-minute window they cover (epoch s of its start), so one window alerts once.
    window_start: Mapped[int | None] = mapped_column(BigInteger)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)


# --- Panel hardening (issue 15, webpanel/): password reset by e-mail ---------------------------------


class PasswordReset(Base):
    """A password-reset link sent by e-mail: single use, short-lived; only the token's SHA-256 is kept."""

    __tablename__ = "password_resets"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("panel_accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
