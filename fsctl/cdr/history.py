"""Call history for the panel: one tenant's calls with filters, pages and the charge of each call.

Always scoped by tenant (DESIGN boundary 5): the tenant id is part of every query built here.
Tenant-wide, a call is shown once (its A leg, plus forwards charged on a B leg); for one user, both
the calls the user made and the calls the user received (their B legs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.prices import PriceList, default_prices
from fsctl.billing.rating import rate_call

DIRECTIONS = ("in", "out", "internal")


@dataclass(frozen=True)
class HistoryFilter:
    tenant_id: int
    since: dt.datetime | None = None  # started_at >= since (aware)
    until: dt.datetime | None = None  # started_at < until (aware)
    extension: str | None = None
    number: str | None = None  # a number of the tenant (DID called or caller ID shown) or the remote party
    direction: str | None = None  # in, out, internal
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class CallItem:
    uuid: str
    started_at: dt.datetime
    answered: bool
    direction: str
    call_class: str
    extension: str | None
    number: str | None
    caller: str
    destination: str
    remote: str
    billsec: int
    charge_yen: int
    billed_month: str | None
    hangup_cause: str


@dataclass(frozen=True)
class HistoryPage:
    items: list[CallItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _conditions(f: HistoryFilter) -> list:
    cdr = models.CallRecord
    where = [cdr.tenant_id == f.tenant_id]
    if f.extension:
        where.append(cdr.extension == f.extension)
    else:
        where.append(cdr.call_class != "leg")
    if f.since:
        where.append(cdr.started_at >= f.since.astimezone(dt.UTC))
    if f.until:
        where.append(cdr.started_at < f.until.astimezone(dt.UTC))
    if f.number:
        where.append(or_(cdr.number == f.number, cdr.remote == f.number, cdr.destination == f.number))
    if f.direction:
        if f.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        where.append(cdr.direction == f.direction)
    return where


def call_history(session: Session, f: HistoryFilter, prices: PriceList | None = None) -> HistoryPage:
    """One page of a tenant's calls, newest first, with the charge of each (tax excluded)."""
    prices = prices or default_prices()
    cdr = models.CallRecord
    where = _conditions(f)
    per_page = min(max(f.per_page, 1), 500)
    page = max(f.page, 1)
    total = session.scalar(select(func.count()).select_from(cdr).where(*where)) or 0
    rows = session.scalars(
        select(cdr)
        .where(*where)
        .order_by(cdr.started_at.desc(), cdr.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return HistoryPage([_item(row, prices) for row in rows], total, page, per_page)


def iter_history(session: Session, f: HistoryFilter, prices: PriceList | None = None, batch: int = 2000):
    """Every call the filter matches, newest first, in batches of `batch` items (for the CSV export).

    Keyset paging on (started_at, id): each batch is one indexed range read, where page-by-page
    counting and OFFSET made a day of 8,000 calls cost 17 counts and ever longer skips.
    """
    prices = prices or default_prices()
    cdr = models.CallRecord
    where = _conditions(f)
    after: tuple[dt.datetime, int] | None = None
    while True:
        query = select(cdr).where(*where)
        if after is not None:
            started, row_id = after
            query = query.where(
                or_(cdr.started_at < started, (cdr.started_at == started) & (cdr.id < row_id))
            )
        rows = list(session.scalars(query.order_by(cdr.started_at.desc(), cdr.id.desc()).limit(batch)))
        if not rows:
            return
        yield [_item(row, prices) for row in rows]
        if len(rows) < batch:
            return
        after = (rows[-1].started_at, rows[-1].id)


def _item(row: models.CallRecord, prices: PriceList) -> CallItem:
    started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=dt.UTC)
    charge = row.charge_yen
    if charge is None:  # not rated yet: the same rule, computed here
        charge = rate_call(prices, row.call_class, row.remote, row.billsec, started, row.gateway)
    return CallItem(
        uuid=row.uuid,
        started_at=started,
        answered=row.answered_at is not None,
        direction=row.direction,
        call_class=row.call_class,
        extension=row.extension,
        number=row.number,
        caller=row.caller,
        destination=row.destination,
        remote=row.remote,
        billsec=row.billsec,
        charge_yen=charge,
        billed_month=row.billed_month,
        hangup_cause=row.hangup_cause,
    )
