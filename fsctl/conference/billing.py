"""Conference rooms on the monthly statement: one option item per room (`conference_room`, the room's
number as subject), priced by dialplans/prices.yaml `monthly.option_conference_room` (0 yen until the
operator prices it), billed by the part-month rule like the IVR option."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

ITEM = "conference_room"


def room_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """(item, subject) of every room the tenant holds now (for held_now)."""
    rows = session.scalars(
        select(models.ConferenceRoom.number).where(models.ConferenceRoom.tenant_id == tenant.id)
    )
    return {(ITEM, number) for number in rows}
