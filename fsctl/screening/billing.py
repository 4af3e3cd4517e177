"""Caller screening on the monthly statement, through billing's billable-item seam.

The brochure prices neither part, so both are options in dialplans/prices.yaml at 0 yen until the
operator prices them: `option_anonymous_rejection` per number or user that refuses callers without a
number, `option_blocklist` once per tenant whose blocklist holds an entry. Billed like the IVR option
(subscriptions with the part-month rule), so a price set later bills from the day it applies.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models


def screening_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """(item, subject) of the screening the tenant holds now (for held_now)."""
    items: set[tuple[str, str]] = set()
    rows = session.execute(
        select(models.Number.national, models.User.extension)
        .select_from(models.AnonymousRefusal)
        .outerjoin(models.Number, models.Number.id == models.AnonymousRefusal.number_id)
        .outerjoin(models.User, models.User.id == models.AnonymousRefusal.user_id)
        .where(models.AnonymousRefusal.tenant_id == tenant.id)
    )
    for national, extension in rows:
        items.add(("anonymous_rejection", f"number {national}" if national else f"user {extension}"))
    listed = session.scalar(
        select(models.BlockedCaller.id).where(models.BlockedCaller.tenant_id == tenant.id).limit(1)
    )
    if listed is not None:
        items.add(("blocklist", "tenant"))
    return items
