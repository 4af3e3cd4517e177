"""The shared phonebook on the monthly statement: one option item (`phonebook`) while the tenant holds
at least one entry, priced by dialplans/prices.yaml `monthly.option_phonebook` (0 yen until the
operator prices it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

ITEM = "phonebook"


def phonebook_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """("phonebook", "") while the tenant has an entry (for held_now)."""
    query = select(models.PhonebookEntry.id).where(models.PhonebookEntry.tenant_id == tenant.id).limit(1)
    return {(ITEM, "")} if session.scalar(query) is not None else set()
