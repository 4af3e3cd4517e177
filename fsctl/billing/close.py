"""Closing a month: rate, mark what is billed, store one statement per tenant (idempotent).

A month is closed once: the first close stores every tenant's statement and marks the calls and
one-off fees it contains (billed_month); closing again returns the stored statements unchanged. Calls
that arrive later (late CDRs, spooled files imported after the close) keep billed_month NULL and go
to the next statement, on a line marked as late.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.billing.prices import PriceList
from fsctl.billing.rating import BILLING_TZ, rate_unrated
from fsctl.billing.settings import BillingSettings
from fsctl.billing.statement import Month, compute_statements

log = logging.getLogger(__name__)


class BillingError(Exception):
    """A month that cannot be closed (not over yet, issuer not configured)."""


def invoice_number(month: Month, tenant_id: int) -> str:
    return f"KUMO-{month.year:04d}{month.month:02d}-{tenant_id:06d}"


def decorate(doc: dict, month: Month, settings: BillingSettings, issued_on: dt.date) -> dict:
    """Add what the qualified invoice shows besides the lines: issuer, number, issue date."""
    return {
        **doc,
        "invoice_number": invoice_number(month, doc["tenant"]["id"]),
        "issued_on": issued_on.isoformat(),
        "issuer": {
            "name": settings.issuer_name,
            "address": settings.issuer_address,
            "registration_number": settings.registration_number,
        },
    }


def preview(
    engine: Engine,
    factory: sessionmaker[Session],
    month: Month,
    prices: PriceList,
    settings: BillingSettings,
    today: dt.date,
) -> list[dict]:
    """Statements of an open month as they stand (calls rated, nothing closed or marked)."""
    rate_unrated(engine, prices)
    with factory() as session:
        docs = compute_statements(session, month, prices)
    return [dict(decorate(doc, month, settings, today), closed=False) for doc in docs.values()]


def stored_statements(session: Session, month: Month) -> list[dict]:
    rows = session.scalars(
        select(models.Statement)
        .where(models.Statement.month == str(month))
        .order_by(models.Statement.tenant_id)
    )
    return [
        dict(row.document, closed=True, emailed_at=row.emailed_at.isoformat() if row.emailed_at else None)
        for row in rows
    ]


def close_month(
    engine: Engine,
    factory: sessionmaker[Session],
    month: Month,
    prices: PriceList,
    settings: BillingSettings,
    today: dt.date | None = None,
) -> list[dict]:
    """Close `month` (once) and return its statements."""
    today = today or dt.datetime.now(BILLING_TZ).date()
    if today <= month.last:
        raise BillingError(f"{month} is not over yet (today is {today} in Japan); use --preview")
    error = settings.registration_error()
    if error:
        raise BillingError(error)
    with factory() as session:
        if session.scalar(select(models.Statement.id).where(models.Statement.month == str(month)).limit(1)):
            log.info("%s was closed before; returning its statements unchanged", month)
            return stored_statements(session, month)
    rate_unrated(engine, prices)
    with factory() as session, session.begin():
        cdr, one_off = models.CallRecord, models.OneOffCharge
        # Mark first, then compute from the marks: a record arriving meanwhile is either in or out.
        session.execute(
            update(cdr)
            .where(cdr.billed_month.is_(None), cdr.tenant_id.is_not(None), cdr.started_at < month.utc_end())
            .values(billed_month=str(month))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(one_off)
            .where(one_off.billed_month.is_(None), one_off.occurred_on <= month.last)
            .values(billed_month=str(month))
            .execution_options(synchronize_session=False)
        )
        # A leg stored between rating and marking is rated here, inside the closing transaction.
        rate_unrated(session.connection(), prices)
        docs = compute_statements(session, month, prices, closed=True)
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "tenant_id": tenant_id,
                "month": str(month),
                "invoice_number": invoice_number(month, tenant_id),
                "closed_at": now,
                "subtotal_yen": doc["subtotal_yen"],
                "tax_yen": doc["tax_yen"],
                "total_yen": doc["total_yen"],
                "document": decorate(doc, month, settings, today),
            }
            for tenant_id, doc in docs.items()
        ]
        if rows:
            session.execute(models.Statement.__table__.insert(), rows)
    log.info("closed %s: %s statements", month, len(docs))
    with factory() as session:
        return stored_statements(session, month)
