"""What a tenant held, day by day: subscription periods written whenever its configuration is saved.

`sync_subscriptions` compares what the tenant holds now (service, users, numbers, options) with the
open periods and closes or opens periods dated `day` (the tenant's calendar day, or the day set with
`billing_day(...)`). Every apply of the tenant file calls it (SubscriptionsSection); anything else that
changes users, numbers or options calls it too. Releasing a number records its cancellation fee.

The rule for part months (README "Billing"): an item is billed in full for every calendar month in
which it was held on at least one day on which the tenant's service was active (not in trial).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.prices import PriceList, default_prices
from fsctl.tenant_file import ApplyContext, Section

# A feature's billable items: (item, subject) pairs the tenant holds now (a gateway by its plan, ...).
Billable = Callable[[Session, models.Tenant], set[tuple[str, str]]]

NUMBER_ITEMS = {
    models.NumberKind.GEOGRAPHIC: "number_geographic",
    models.NumberKind.IP: "number_ip",
    models.NumberKind.TOLL_FREE: "number_toll_free",
}
ONE_OFF_KINDS = ("porting_toll_free", "cancel_number", "cancel_toll_free", "gateway_setup")

_day: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("kumo_billing_day", default=None)


@contextlib.contextmanager
def billing_day(day: dt.date) -> Iterator[None]:
    """Record subscription changes made inside as happening on `day` (imports, tests)."""
    token = _day.set(day)
    try:
        yield
    finally:
        _day.reset(token)


def today_for(tenant: models.Tenant) -> dt.date:
    """The day changes are recorded on: `billing_day` if set, else today in the tenant's timezone."""
    day = _day.get()
    if day is not None:
        return day
    try:
        zone = ZoneInfo(tenant.timezone or "Asia/Tokyo")
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Tokyo")
    return dt.datetime.now(zone).date()


def held_now(session: Session, tenant: models.Tenant, billable: Sequence[Billable]) -> set[tuple[str, str]]:
    """(item, subject) pairs the tenant holds at this moment: the core's items and each feature's."""
    items: set[tuple[str, str]] = set()
    if tenant.status != models.TenantStatus.TRIAL:
        items.add(("service", ""))
    for user in tenant.users:
        items.add(("user", user.extension))
        if user.recording_enabled:
            items.add(("recording", user.extension))
    for number in tenant.numbers:
        items.add((NUMBER_ITEMS[number.kind], number.national))
        if number.ivr_option:
            items.add(("ivr", number.national))
    for feature_items in billable:
        items |= feature_items(session, tenant)
    account = session.get(models.BillingAccount, tenant.id)
    if account is not None and account.paper_invoice:
        items.add(("paper_invoice", ""))
    return items


def sync_subscriptions(
    session: Session, tenant: models.Tenant, prices: PriceList | None = None, *, billable: Sequence[Billable]
) -> None:
    """Close periods of what the tenant no longer holds and open periods for what is new.

    `billable`: the features' items (fsctl.wiring.billable_items); one left out would end its periods.
    """
    day = today_for(tenant)
    sub = models.Subscription
    open_rows = session.execute(
        select(sub.id, sub.item, sub.subject).where(sub.tenant_id == tenant.id, sub.ended_on.is_(None))
    ).all()
    current = held_now(session, tenant, billable)
    open_items = {(row.item, row.subject): row.id for row in open_rows}
    in_service = ("service", "") in current or ("service", "") in open_items
    for (item, subject), row_id in open_items.items():
        if (item, subject) in current:
            continue
        session.execute(update(sub).where(sub.id == row_id).values(ended_on=day))
        if item.startswith("number_") and in_service:
            add_one_off(session, tenant.id, _cancel_kind(item), subject, day, prices)
    new = [
        {"tenant_id": tenant.id, "item": item, "subject": subject, "started_on": day}
        for item, subject in sorted(current - set(open_items))
    ]
    if new:
        session.execute(insert(sub), new)


def _cancel_kind(item: str) -> str:
    return "cancel_toll_free" if item == "number_toll_free" else "cancel_number"


def release_fee(tenant: models.Tenant, kind: models.NumberKind, prices: PriceList | None = None) -> int:
    """The cancellation fee releasing a number of `kind` would record today (0 during the trial):
    the same rule as sync_subscriptions, for a confirmation that states the cost beforehand."""
    if tenant.status == models.TenantStatus.TRIAL:
        return 0
    return (prices or default_prices()).at(today_for(tenant)).one_off[_cancel_kind(NUMBER_ITEMS[kind])]


def add_one_off(
    session: Session, tenant_id: int, kind: str, subject: str, day: dt.date, prices: PriceList | None = None
) -> int:
    """Record a one-off fee (porting, cancellation) at the price of that day; returns the yen."""
    if kind not in ONE_OFF_KINDS:
        raise ValueError(f"unknown one-off charge {kind!r}; one of {', '.join(ONE_OFF_KINDS)}")
    amount = (prices or default_prices()).at(day).one_off[kind]
    session.execute(
        insert(models.OneOffCharge),
        [
            {
                "tenant_id": tenant_id,
                "occurred_on": day,
                "kind": kind,
                "subject": subject,
                "amount_yen": amount,
            }
        ],
    )
    return amount


def set_billing_account(
    session: Session,
    tenant: models.Tenant,
    email: str | None = None,
    paper_invoice: bool | None = None,
    *,
    billable: Sequence[Billable],
) -> models.BillingAccount:
    """Set where invoices go and the paper option (the option's history is a subscription period)."""
    account = session.get(models.BillingAccount, tenant.id)
    if account is None:
        account = models.BillingAccount(tenant_id=tenant.id, paper_invoice=False)
        session.add(account)
    if email is not None:
        account.email = email or None
    if paper_invoice is not None:
        account.paper_invoice = paper_invoice
    session.flush()
    sync_subscriptions(session, tenant, billable=billable)
    return account


def periods_in(session: Session, first: dt.date, last: dt.date, tenant_ids: list[int] | None = None):
    """Every subscription row overlapping [first, last], for all tenants (or those given)."""
    sub = models.Subscription
    query = select(sub.tenant_id, sub.item, sub.subject, sub.started_on, sub.ended_on).where(
        and_(sub.started_on <= last, (sub.ended_on.is_(None)) | (sub.ended_on >= first))
    )
    if tenant_ids is not None:
        query = query.where(sub.tenant_id.in_(tenant_ids))
    return session.execute(query).all()


class SubscriptionsSection(Section):
    """After every apply of the tenant file: users, numbers and options held from today on."""

    name = "subscriptions"

    def __init__(self, billable: Sequence[Billable] = ()):
        self.billable = tuple(billable)

    def settle(self, context: ApplyContext, tenant: models.Tenant) -> None:
        sync_subscriptions(context.session, tenant, billable=self.billable)
