"""Call queues on the monthly statement: one option item per queue (`call_queue`, the queue's number
as subject), priced by dialplans/prices.yaml `monthly.option_call_queue` (0 yen until the operator
prices it), billed by the part-month rule like the IVR option."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

ITEM = "call_queue"


def queue_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """(item, subject) of every queue the tenant holds now (for held_now)."""
    rows = session.scalars(select(models.CallQueue.number).where(models.CallQueue.tenant_id == tenant.id))
    return {(ITEM, number) for number in rows}
