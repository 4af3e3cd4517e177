"""The operator's number inventory: `fsctl numbers add RANGE`, `fsctl numbers list`.

The rules it keeps are docs/decisions.md "Number inventory".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.db import session_scope
from fsctl.numbers import expand_range, parse_inventory_number


def add_numbers(factory: sessionmaker[Session], spec: str, actor: str = "fsctl") -> tuple[int, int]:
    """Add every number of a range to the inventory; (added, already present). All or nothing."""
    parsed = [parse_inventory_number(n) for n in expand_range(spec)]
    with session_scope(factory) as session:
        present = set(
            session.scalars(
                select(models.Number.national).where(models.Number.national.in_([p[0] for p in parsed]))
            )
        )
        for national, e164, kind in parsed:
            if national not in present:
                session.add(models.Number(national=national, e164=e164, kind=kind))
        added = len(parsed) - len(present)
        if added:
            session.add(models.AuditEntry(actor=actor, action="numbers.add", detail=f"{spec} ({added} new)"))
    return added, len(present)


def list_numbers(factory: sessionmaker[Session], free_only: bool = False) -> list[tuple[str, str, str, str]]:
    """(national, e164, kind, owner domain or '-') for the inventory, in number order."""
    with session_scope(factory) as session:
        query = (
            select(models.Number.national, models.Number.e164, models.Number.kind, models.Tenant.domain)
            .outerjoin(models.Tenant, models.Number.tenant_id == models.Tenant.id)
            .order_by(models.Number.national)
        )
        if free_only:
            query = query.where(models.Number.tenant_id.is_(None))
        return [(n, e, k.value, d or "-") for n, e, k, d in session.execute(query)]
