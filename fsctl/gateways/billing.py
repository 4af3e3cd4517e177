"""Customer gateways on the monthly statement, through billing's seams (billable items, one-off fees).

- Monthly: one subscription item per gateway, `gateway_<plan>ch` with the gateway's name as subject,
  written by fsctl.billing.subscriptions.sync_subscriptions (`gateway_items` is one of the billable
  items fsctl.wiring names), priced in dialplans/prices.yaml (monthly.gateway_4ch ... gateway_32ch) and billed by the part-month rule
  like every other item. A plan change within a month bills both plans for that month.
- Set-up: 50,000 yen once (one_off.gateway_setup), recorded on the day the gateway is created by an active
  tenant (a gateway created during the trial is charged on activation, not before); a gateway removed
  and created again is a new set-up.
- Calls through a customer gateway are rated 0 yen: the dialplan sets `kumo_gateway=<name>` on the
  leg (fsctl.gateways.routing), which CDR classification keeps and rating prices at 0.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.subscriptions import add_one_off, today_for

SETUP_KIND = "gateway_setup"


def plan_item(channels: int) -> str:
    """The subscription item (and monthly price key) of a channel plan."""
    return f"gateway_{channels}ch"


def gateway_items(session: Session, tenant: models.Tenant) -> set[tuple[str, str]]:
    """(item, subject) of every gateway the tenant holds now (for held_now)."""
    rows = session.execute(
        select(models.Gateway.name, models.Gateway.channels).where(models.Gateway.tenant_id == tenant.id)
    )
    return {(plan_item(channels), name) for name, channels in rows}


def charge_setups(session: Session, tenant: models.Tenant, new: set[str]) -> int:
    """Record the set-up fee of the gateways just created (`new`, by name), and of any gateway never
    charged (created during the trial), once the tenant is out of its trial; returns the yen added."""
    if tenant.status == models.TenantStatus.TRIAL:
        return 0
    day = today_for(tenant)
    total = 0
    names = session.scalars(select(models.Gateway.name).where(models.Gateway.tenant_id == tenant.id)).all()
    for name in names:
        charged = session.scalar(
            select(models.OneOffCharge.id).where(
                models.OneOffCharge.tenant_id == tenant.id,
                models.OneOffCharge.kind == SETUP_KIND,
                models.OneOffCharge.subject == name,
            )
        )
        if name in new or charged is None:
            total += add_one_off(session, tenant.id, SETUP_KIND, name, day)
    return total
