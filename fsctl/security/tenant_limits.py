"""The operator's per-tenant caps (security_tenant_limits): read, change, suspend and resume external calls.

Rows are routing configuration: every change bumps the tenant's config_version (fsctl.db), so the very
next dialplan lookup in every serving process renders the new caps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.security.limits import DEFAULT_RATE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LimitsView:
    tenant_id: int
    domain: str
    calls_per_interval: int
    interval_seconds: int
    user_external_calls: int
    spend_cap_yen: int | None
    suspend_on_alert: bool
    external_suspended: bool


def _tenant(session: Session, domain: str) -> models.Tenant:
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
    if tenant is None:
        raise LookupError(f"no tenant {domain}")
    return tenant


def _row(session: Session, tenant_id: int, create: bool) -> models.TenantCallLimits | None:
    row = session.get(models.TenantCallLimits, tenant_id)
    if row is None and create:
        row = models.TenantCallLimits(
            tenant_id=tenant_id,
            calls_per_interval=DEFAULT_RATE[0],
            interval_seconds=DEFAULT_RATE[1],
            user_external_calls=0,
            suspend_on_alert=False,
            external_suspended=False,
        )
        session.add(row)
    return row


def get_limits(session: Session, domain: str) -> LimitsView:
    """The tenant's caps (the defaults when the operator set none)."""
    tenant = _tenant(session, domain)
    row = _row(session, tenant.id, create=False)
    if row is None:
        return LimitsView(tenant.id, tenant.domain, DEFAULT_RATE[0], DEFAULT_RATE[1], 0, None, False, False)
    return LimitsView(
        tenant.id,
        tenant.domain,
        row.calls_per_interval,
        row.interval_seconds,
        row.user_external_calls,
        row.spend_cap_yen,
        row.suspend_on_alert,
        row.external_suspended,
    )


def set_limits(session: Session, domain: str, actor: str, **changes: object) -> LimitsView:
    """Change some caps (calls_per_interval, interval_seconds, user_external_calls, spend_cap_yen,
    suspend_on_alert); commits and audits."""
    allowed = {
        "calls_per_interval",
        "interval_seconds",
        "user_external_calls",
        "spend_cap_yen",
        "suspend_on_alert",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    for name in ("calls_per_interval", "user_external_calls", "spend_cap_yen"):
        value = changes.get(name)
        if value is not None and int(value) < 0:  # type: ignore[call-overload]
            raise ValueError(f"{name} must not be negative")
    if changes.get("interval_seconds") is not None and int(changes["interval_seconds"]) < 1:  # type: ignore[call-overload]
        raise ValueError("interval_seconds must be at least 1")
    tenant = _tenant(session, domain)
    row = _row(session, tenant.id, create=True)
    for name, value in changes.items():
        setattr(row, name, value)
    detail = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    session.add(models.AuditEntry(actor=actor, tenant_id=tenant.id, action="security.limits", detail=detail))
    session.commit()
    return get_limits(session, domain)


def set_external_suspended(
    session: Session, tenant_id: int, suspended: bool, actor: str, why: str = ""
) -> bool:
    """Suspend or resume the tenant's external calls; commits; True when the state changed."""
    row = _row(session, tenant_id, create=True)
    if row.external_suspended == suspended:
        session.commit()
        return False
    row.external_suspended = suspended
    kind = "external_suspended" if suspended else "external_resumed"
    session.add(models.SecurityEvent(tenant_id=tenant_id, kind=kind, subject=actor, detail=why))
    session.add(models.AuditEntry(actor=actor, tenant_id=tenant_id, action=f"security.{kind}", detail=why))
    session.commit()
    log.warning("tenant %s: %s by %s %s", tenant_id, kind, actor, why)
    return True
