"""What the panel shows and does for toll-fraud and intrusion defence, scoped in one place.

The operator sees every ban and event and may lift bans, change caps and resume external calls. A tenant
administrator sees only the user+IP bans of the tenant's own domain (never other tenants' addresses or
platform-wide IP bans, which may name another customer's office), the tenant's own events and caps, and
may resume its own external calls after a spend suspension (the feature owns its page, docs/decisions.md
"Features own their pages"; the panel's frame calls these functions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.security import bans
from fsctl.security.spend import SpendFigures, spend_figures
from fsctl.security.tenant_limits import LimitsView, get_limits, set_external_suspended


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    at: dt.datetime
    tenant_id: int | None
    kind: str
    subject: str
    detail: str
    emailed: bool


@dataclass(frozen=True, slots=True)
class Suspension:
    """Why and since when a tenant's external calls are suspended (the latest suspension event)."""

    tenant_id: int
    since: dt.datetime | None
    by: str
    reason: str
    spend: SpendFigures | None


@dataclass(frozen=True, slots=True)
class SecurityOverview:
    bans: list[bans.BanView]
    events: list[EventView]
    limits: LimitsView | None
    suspension: Suspension | None = None
    # A tenant's view: ban id -> until when an IP-wide ban on that address refuses the same user anyway
    # (only the operator can lift that one; the tenant learns no more than this about it).
    ip_wide: dict[int, dt.datetime] = field(default_factory=dict)


def _domain(session: Session, tenant_id: int) -> str:
    domain = session.scalar(select(models.Tenant.domain).where(models.Tenant.id == tenant_id))
    if domain is None:
        raise LookupError(f"no tenant {tenant_id}")
    return domain


def recent_events(session: Session, tenant_id: int | None = None, limit: int = 100) -> list[EventView]:
    """Newest first; `tenant_id` = that tenant's events only (None = all, for the operator)."""
    e = models.SecurityEvent
    query = select(e).order_by(e.at.desc(), e.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(e.tenant_id == tenant_id)
    return [
        EventView(r.id, r.at, r.tenant_id, r.kind, r.subject, r.detail, r.emailed)
        for r in session.scalars(query)
    ]


def overview(
    session: Session, tenant_id: int | None = None, include_expired: bool = False
) -> SecurityOverview:
    """Bans, events and caps: the operator's (tenant_id None) or one tenant's view."""
    if tenant_id is None:
        return SecurityOverview(
            bans.list_bans(session, include_expired=include_expired), recent_events(session), None
        )
    domain = _domain(session, tenant_id)
    own = bans.list_bans(session, include_expired=include_expired, domain=domain)
    ip_wide = {}
    for ban in own:
        until = bans.ip_ban_until(session, ban.ip, ban.domain, ban.username)
        if until is not None:
            ip_wide[ban.id] = until
    return SecurityOverview(
        own,
        recent_events(session, tenant_id),
        get_limits(session, domain),
        suspension(session, tenant_id),
        ip_wide,
    )


def suspension(session: Session, tenant_id: int) -> Suspension | None:
    """The tenant's external-call suspension (when, by whom, the spend figures), or None when not suspended."""
    limits = session.get(models.TenantCallLimits, tenant_id)
    if limits is None or not limits.external_suspended:
        return None
    e = models.SecurityEvent
    event = session.scalars(
        select(e)
        .where(e.tenant_id == tenant_id, e.kind == "external_suspended")
        .order_by(e.at.desc(), e.id.desc())
        .limit(1)
    ).first()
    if event is None:
        return Suspension(tenant_id, None, "", "", None)
    return Suspension(tenant_id, event.at, event.subject, event.detail, spend_figures(event.detail))


def suspended_tenants(session: Session) -> list[tuple[int, str, str]]:
    """(id, domain, name) of every tenant whose external calls are suspended (the operator's list)."""
    t, limits = models.Tenant, models.TenantCallLimits
    query = (
        select(t.id, t.domain, t.name)
        .join(limits, limits.tenant_id == t.id)
        .where(limits.external_suspended.is_(True))
        .order_by(t.domain)
    )
    return [(tid, domain, name) for tid, domain, name in session.execute(query)]


def tenant_ban(session: Session, tenant_id: int, ban_id: int) -> bans.BanView | None:
    """One of the tenant's own user+IP bans, active or not; None for another tenant's or an IP-wide ban."""
    ban = session.get(models.Ban, ban_id)
    if ban is None or not ban.domain or ban.domain != _domain(session, tenant_id):
        return None
    return bans.ban_view(ban)


def lift(session: Session, actor: str, ban_id: int, tenant_id: int | None = None) -> bool:
    """Lift one ban (commits what the session holds, e.g. the caller's audit entry, with it); a tenant
    (tenant_id given) may lift only its own user+IP bans."""
    ban = session.get(models.Ban, ban_id)
    if ban is None:
        return False
    if tenant_id is not None and (not ban.domain or ban.domain != _domain(session, tenant_id)):
        return False
    return bans.lift_bans(session, actor, ban_id=ban_id) == 1


def resume_external_calls(session: Session, actor: str, tenant_id: int) -> bool:
    """Re-enable external calls after a spend suspension (operator or the tenant's administrator); commits
    and audits. False (nothing written) when they were not suspended."""
    limits = session.get(models.TenantCallLimits, tenant_id)
    if limits is None or not limits.external_suspended:
        return False
    return set_external_suspended(session, tenant_id, False, actor, "re-enabled in the panel")
