"""What the panel shows and does for issue 9, scoped in one place (DESIGN boundary 5).

The operator sees every ban and event and may lift bans, change caps and resume external calls. A tenant
administrator sees only the user+IP bans of the tenant's own domain (never other tenants' addresses or
platform-wide IP bans, which may name another customer's office), the tenant's own events and caps, and
may resume its own external calls after a spend suspension (DECISIONS 7: the feature owns its page; the
panel engineer's frame calls these functions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.security import bans
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
class SecurityOverview:
    bans: list[bans.BanView]
    events: list[EventView]
    limits: LimitsView | None


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
    return SecurityOverview(
        bans.list_bans(session, include_expired=include_expired, domain=domain),
        recent_events(session, tenant_id),
        get_limits(session, domain),
    )


def lift(session: Session, actor: str, ban_id: int, tenant_id: int | None = None) -> bool:
    """Lift one ban; a tenant (tenant_id given) may lift only its own user+IP bans."""
    ban = session.get(models.Ban, ban_id)
    if ban is None:
        return False
    if tenant_id is not None and (not ban.domain or ban.domain != _domain(session, tenant_id)):
        return False
    return bans.lift_bans(session, actor, ban_id=ban_id) == 1


def resume_external_calls(session: Session, actor: str, tenant_id: int) -> bool:
    """Re-enable external calls after a spend suspension (operator or the tenant's administrator)."""
    return set_external_suspended(session, tenant_id, False, actor, "re-enabled in the panel")
