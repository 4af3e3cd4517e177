"""Tenant configuration: tenants, users, numbers, destinations, ring groups, schedules, IVR menus,
park ranges and the audit trail. Every row here is routing configuration (fsctl.db bumps the tenant's
config_version on each change)."""

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
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fsctl.models.base import (
    Base,
    DestinationKind,
    Direction,
    NumberKind,
    RingStrategy,
    TenantStatus,
    destination_fk,
    enum_type,
    one_target_check,
    utc_now,
)


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
        enum_type(TenantStatus, "tenant_status"), default=TenantStatus.TRIAL
    )
    trial_started_on: Mapped[dt.date] = mapped_column(Date, default=lambda: dt.date.today())
    international_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    max_external_channels: Mapped[int] = mapped_column(Integer, default=2)
    # Operator allowances for prefixes that are blocked by default: "0570", "0990" ...
    allowed_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Bumped on every committed change to the tenant's configuration; lookup caches key on it.
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # The switch node the tenant lives on (fsctl.cluster); NULL = a single switch, no cluster. The
    # operator's, never the tenant file's: `fsctl apply` neither shows nor changes it.
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("switch_nodes.id", ondelete="SET NULL"), index=True
    )

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
    __table_args__ = (CheckConstraint(one_target_check(), name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DestinationKind] = mapped_column(enum_type(DestinationKind, "destination_kind"))
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


class User(Base):
    """One extension = one SIP account = one billable device."""

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
    direction: Mapped[Direction] = mapped_column(
        enum_type(Direction, "user_direction"), default=Direction.BOTH
    )
    # Number presented on external calls; must be one of the tenant's numbers (checked on save).
    caller_id: Mapped[str | None] = mapped_column(String(32))
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    voicemail_pin: Mapped[str | None] = mapped_column(String(12))
    voicemail_email: Mapped[str | None] = mapped_column(String(254))
    voicemail_attach_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Do not disturb: the user's phones are not rung; calls follow the busy forward (fsctl.routing.destinations).
    do_not_disturb: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Personal (per-device) time-of-day schedule; outside it the user does not ring.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    forward_always_id: Mapped[int | None] = destination_fk()
    forward_busy_id: Mapped[int | None] = destination_fk()
    forward_no_answer_id: Mapped[int | None] = destination_fk()
    forward_no_answer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    forward_unregistered_id: Mapped[int | None] = destination_fk()

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
    kind: Mapped[NumberKind] = mapped_column(enum_type(NumberKind, "number_kind"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    destination_id: Mapped[int | None] = destination_fk()
    ivr_option: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant | None] = relationship(back_populates="numbers")
    destination: Mapped[Destination | None] = relationship(foreign_keys=[destination_id])


# Kamailio looks a carrier's R-URI up in kamailio_number_routes, whose "81..." form (E.164 without
# the plus) is substr(e164, 2): this index keeps that one indexed query like the other two forms.
Index("ix_numbers_e164_without_plus", func.substr(Number.__table__.c.e164, 2))


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
        enum_type(RingStrategy, "ring_strategy"), default=RingStrategy.SIMULTANEOUS
    )
    # Simultaneous: how long all phones ring. Sequential: how long each member rings.
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    no_answer_id: Mapped[int | None] = destination_fk()

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
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_schedules_tenant_name"),
        CheckConstraint("override_mode IN ('open', 'closed')", name="override_mode"),
        CheckConstraint("override_until IS NULL OR override_mode IS NOT NULL", name="override_until_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    # Japanese national holidays (incl. substitute and citizens' holidays) count as closed.
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # Saving is refused while the open periods leave part of the week uncovered.
    full_coverage: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Audio file played when closed (tenant upload); None = the platform's default announcement.
    closed_announcement: Mapped[str | None] = mapped_column(String(255))
    open_destination_id: Mapped[int | None] = destination_fk()
    closed_destination_id: Mapped[int | None] = destination_fk()
    # The day/night override (臨時休業 / 臨時営業): "open" or "closed" forces that state over the
    # periods, holidays and closures until `override_until` (stored in UTC; None = until cleared).
    # Routing ignores an override past its until, so it ends at that moment with nothing saved.
    override_mode: Mapped[str | None] = mapped_column(String(8))
    override_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

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
    timeout_destination_id: Mapped[int | None] = destination_fk()

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
    """Who changed what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(120))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


TENANT_SCOPED_MODELS = (User, Destination, RingGroup, Schedule, IvrMenu, ParkRange)
