"""Build a TenantSnap from the models (the one non-pure part of fsctl.routing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from fsctl import models
from fsctl.routing.hold import hold_music_fields_orm
from fsctl.routing.snapshot import (
    Closure,
    Dest,
    IvrSnap,
    NumberSnap,
    Period,
    RingGroupSnap,
    ScheduleSnap,
    TenantSnap,
    UserSnap,
)
from fsctl.security.limits import limit_fields


def dest_of(row: models.Destination | None) -> Dest | None:
    """A destination row as plain data (target = extension, group/menu/schedule name or number)."""
    if row is None:
        return None
    kind = row.kind.value
    if kind in ("user", "voicemail"):
        return Dest(kind, row.user.extension if row.user else None)
    if kind == "ring_group":
        return Dest(kind, row.ring_group.name if row.ring_group else None)
    if kind == "ivr":
        return Dest(kind, row.ivr_menu.name if row.ivr_menu else None)
    if kind == "schedule":
        return Dest(kind, row.schedule.name if row.schedule else None)
    if kind == "external":
        return Dest(kind, row.external_number)
    if kind == "announcement":
        return Dest(kind, row.announcement)
    return Dest(kind)


def snapshot_of(tenant: models.Tenant) -> TenantSnap:
    """Copy everything routing needs out of a loaded tenant."""
    users = {
        u.extension: UserSnap(
            extension=u.extension,
            name=u.name,
            direction=u.direction.value,
            caller_id=u.caller_id,
            ring_seconds=u.ring_seconds,
            voicemail_enabled=u.voicemail_enabled,
            recording_enabled=u.recording_enabled,
            schedule=u.schedule.name if u.schedule else None,
            forward_always=dest_of(u.forward_always),
            forward_busy=dest_of(u.forward_busy),
            forward_no_answer=dest_of(u.forward_no_answer),
            forward_no_answer_seconds=u.forward_no_answer_seconds,
            forward_unregistered=dest_of(u.forward_unregistered),
        )
        for u in tenant.users
    }
    numbers = {
        n.national: NumberSnap(n.national, n.e164, n.kind.value, dest_of(n.destination), n.ivr_option)
        for n in tenant.numbers
    }
    groups = {
        g.name: RingGroupSnap(
            g.name,
            tuple(m.user.extension for m in g.members),
            g.strategy.value,
            g.ring_seconds,
            dest_of(g.no_answer),
        )
        for g in tenant.ring_groups
    }
    schedules = {
        s.name: ScheduleSnap(
            name=s.name,
            periods=tuple(Period(p.weekday, p.start_minute, p.end_minute) for p in s.periods),
            closures=tuple(Closure(c.first_day, c.last_day, c.name) for c in s.closures),
            closed_on_holidays=s.closed_on_holidays,
            closed_announcement=s.closed_announcement,
            open_destination=dest_of(s.open_destination),
            closed_destination=dest_of(s.closed_destination),
        )
        for s in tenant.schedules
    }
    menus = {
        m.name: IvrSnap(
            m.name,
            m.greeting,
            m.timeout_seconds,
            m.max_attempts,
            tuple((o.digit, dest_of(o.destination)) for o in m.options),
            dest_of(m.timeout_destination),
        )
        for m in tenant.ivr_menus
    }
    return TenantSnap(
        id=tenant.id,
        domain=tenant.domain,
        name=tenant.name,
        config_version=tenant.config_version,
        timezone=tenant.timezone,
        language=tenant.language,
        status=tenant.status.value,
        trial_started_on=tenant.trial_started_on,
        international_calls=tenant.international_calls,
        max_external_channels=tenant.max_external_channels,
        allowed_prefixes=tuple(tenant.allowed_prefixes or ()),
        users=users,
        numbers=numbers,
        ring_groups=groups,
        schedules=schedules,
        ivr_menus=menus,
        park_ranges=tuple((r.first_slot, r.last_slot) for r in tenant.park_ranges),
        **gateway_fields(tenant),
        **security_limit_fields(tenant),
        **hold_music_fields_orm(object_session(tenant), tenant.id),
    )


def security_limit_fields(tenant: models.Tenant) -> dict:
    """The tenant's external call caps (issue 9); the defaults without a row or outside a session."""
    from sqlalchemy.orm import object_session

    session = object_session(tenant)
    if session is None or tenant.id is None:
        return {}
    row = session.get(models.TenantCallLimits, tenant.id)
    if row is None:
        return {}
    return limit_fields(
        (row.calls_per_interval, row.interval_seconds, row.user_external_calls, row.external_suspended)
    )


def gateway_fields(tenant: models.Tenant) -> dict:
    """The tenant's customer gateways (issue 8) from the models; empty for a tenant not in a session."""
    from sqlalchemy.orm import object_session

    from fsctl.gateways.snapshot import gateway_snap_fields_orm

    session = object_session(tenant)
    return gateway_snap_fields_orm(session, tenant) if session is not None and tenant.id is not None else {}


def load_snapshot(
    session: Session, tenant_id: int | None = None, domain: str | None = None
) -> TenantSnap | None:
    """Load one tenant (by id or domain) in one read transaction, or None."""
    query = select(models.Tenant).options(
        selectinload(models.Tenant.users),
        selectinload(models.Tenant.numbers),
        selectinload(models.Tenant.ring_groups),
        selectinload(models.Tenant.schedules),
        selectinload(models.Tenant.ivr_menus),
        selectinload(models.Tenant.park_ranges),
    )
    query = (
        query.where(models.Tenant.id == tenant_id)
        if tenant_id is not None
        else query.where(models.Tenant.domain == (domain or "").lower())
    )
    tenant = session.scalar(query)
    return snapshot_of(tenant) if tenant is not None else None
