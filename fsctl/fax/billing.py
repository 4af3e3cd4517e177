"""FAX to e-mail on the monthly statement: one option item per fax number (`fax_number`, the number as
subject), priced by dialplans/prices.yaml `monthly.option_fax_number` (0 yen until the operator prices
it), billed by the part-month rule like the IVR option."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

ITEM = "fax_number"


def fax_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """(item, subject) of every fax number the tenant holds now (for held_now)."""
    rows = session.scalars(select(models.FaxNumber.number).where(models.FaxNumber.tenant_id == tenant.id))
    return {(ITEM, number) for number in rows}
