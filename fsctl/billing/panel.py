"""What the panel shows about money: month to date, a forecast, past statements and their PDFs.

All functions take the tenant id: the panel passes the signed-in tenant's id, never one from a form.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.pdf import render_invoice
from fsctl.billing.prices import PriceList, default_prices
from fsctl.billing.settings import BillingSettings, find_font
from fsctl.billing.statement import Month, compute_statements, totals


def month_to_date(
    session: Session, tenant_id: int, today: dt.date, prices: PriceList | None = None
) -> dict | None:
    """The open month's statement as it stands today (monthly fees in full, calls so far, one-offs).

    Calls are rated at intake; legs stored unrated (none normally) count once `fsctl cdr rate` ran.
    """
    prices = prices or default_prices()
    month = Month(today.year, today.month)
    return compute_statements(session, month, prices, tenant_ids=[tenant_id]).get(tenant_id)


def forecast(
    session: Session, tenant_id: int, today: dt.date, prices: PriceList | None = None
) -> dict | None:
    """Month to date with call charges extrapolated to the whole month (integer yen, floor)."""
    prices = prices or default_prices()
    doc = month_to_date(session, tenant_id, today, prices)
    if doc is None:
        return None
    month = Month(today.year, today.month)
    elapsed, days = today.day, month.last.day
    lines = []
    for line in doc["lines"]:
        if line["code"].startswith("calls_") and not line["code"].endswith("_late"):
            line = {
                **line,
                "amount_yen": line["amount_yen"] * days // elapsed,
                "note": f"予測 ({elapsed}/{days}日)",
            }
        lines.append(line)
    return {**doc, "lines": lines, **totals(lines, prices.at(month.first).tax_rate_percent), "forecast": True}


def spend_by_month(session: Session, tenant_id: int, today: dt.date, months: int = 6) -> list[dict]:
    """The overview's spend chart: the last closed months' invoice totals and this month so far
    (month_to_date), oldest first; a month without a statement (before the tenant, or not closed
    yet) is 0 and marked so."""
    closed = dict(
        session.execute(
            select(models.Statement.month, models.Statement.total_yen).where(
                models.Statement.tenant_id == tenant_id
            )
        ).all()
    )
    year, month = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    current = month_to_date(session, tenant_id, today)
    series = [{"month": key, "total_yen": closed.get(key, 0), "closed": key in closed} for key in keys[:-1]]
    series.append({"month": keys[-1], "total_yen": current["total_yen"] if current else 0, "closed": False})
    return series


def statements(session: Session, tenant_id: int) -> list[dict]:
    """The tenant's closed statements, newest first (month, number, totals, whether e-mailed)."""
    rows = session.scalars(
        select(models.Statement)
        .where(models.Statement.tenant_id == tenant_id)
        .order_by(models.Statement.month.desc())
    )
    return [
        {
            "id": r.id,
            "month": r.month,
            "invoice_number": r.invoice_number,
            "subtotal_yen": r.subtotal_yen,
            "tax_yen": r.tax_yen,
            "total_yen": r.total_yen,
            "emailed": r.emailed_at is not None,
        }
        for r in rows
    ]


def statement_pdf(
    session: Session, tenant_id: int, statement_id: int, settings: BillingSettings
) -> bytes | None:
    """The PDF of one of the tenant's statements (None if it is not the tenant's)."""
    row = session.scalar(
        select(models.Statement).where(
            models.Statement.id == statement_id, models.Statement.tenant_id == tenant_id
        )
    )
    return render_invoice(row.document, find_font(settings)) if row is not None else None
