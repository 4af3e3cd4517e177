"""Factories for billing tests: tenants applied on a given day, months closed on a given day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kumo_support import tenant_doc

from fsctl import db
from fsctl.billing.subscriptions import billing_day
from fsctl.wiring import tenant_file


def users(count: int, dids: bool = False, recording: int = 0) -> list[dict[str, Any]]:
    """`count` users 101, 102, ...; each with its own 03 number when `dids`; the first `recording` record."""
    result = []
    for i in range(count):
        ext = str(1001 + i)
        user: dict[str, Any] = {"extension": ext, "name": f"User {ext}", "password": f"Str0ng-{ext}-pass"}
        if dids:
            user["did"] = f"0312345{i:03d}"
        if i < recording:
            user["recording"] = True
        result.append(user)
    return result


def billing_tenant(domain: str = "acme.kumo.test", **overrides: Any) -> dict[str, Any]:
    """An active tenant with 5 users and one 03 number unless overridden (brochure example 1)."""
    doc = tenant_doc(
        domain=domain,
        users=users(5),
        ring_groups=[],
        park=None,
        numbers=[{"number": "0312345678", "destination": {"user": "1001"}}],
    )
    doc.update(overrides)
    return doc


def apply_on(session_factory, day: dt.date, doc: dict[str, Any]) -> str:
    """Apply a tenant file as if on `day` (subscription history dated that day)."""
    with billing_day(day), db.session_scope(session_factory) as session:
        return tenant_file().apply(session, doc).domain
