"""What the panel shows a tenant about its gateways: registration state, channels in use now, refusals.

Read-only queries over the live-state tables the ESL service writes (live_registrations,
live_calls) and the gateway tables (gateway_channels, gateway_refusals: fsctl.gateways.events). Every
query is scoped by tenant_id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fsctl import models


def _start_of_day(now: dt.datetime, timezone: str) -> dt.datetime:
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Tokyo")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def gateway_status(session: Session, tenant_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One entry per gateway of the tenant, by name.

    `registered`: True/False for a registering gateway (a live registration that has not expired),
    None for a static one; `contacts`: the addresses it registered from; `channels_in_use`: calls
    holding one of its plan channels now (channels whose call is still live); `refused_today` /
    `last_refused_at`: calls refused by the plan since midnight in the tenant's timezone.
    """
    now = now or dt.datetime.now(dt.UTC)
    tenant = session.get(models.Tenant, tenant_id)
    if tenant is None:
        return []
    gateways = session.scalars(
        select(models.Gateway).where(models.Gateway.tenant_id == tenant_id).order_by(models.Gateway.name)
    ).all()
    reg = models.LiveRegistration
    contacts: dict[str, list[str]] = {}
    rows = session.execute(
        select(reg.extension, reg.network_address).where(
            reg.tenant_id == tenant_id,
            reg.extension.in_([g.name for g in gateways]),
            reg.expires_at > now,
        )
    )
    for name, address in rows:
        contacts.setdefault(name, []).append(address)
    channel = models.GatewayChannel
    in_use = dict(
        session.execute(
            select(channel.gateway_id, func.count())
            .join(models.LiveCall, models.LiveCall.uuid == channel.uuid)
            .where(channel.tenant_id == tenant_id)
            .group_by(channel.gateway_id)
        ).all()
    )
    refusal = models.GatewayRefusal
    refused = {
        gateway_id: (count, last)
        for gateway_id, count, last in session.execute(
            select(refusal.gateway_id, func.count(), func.max(refusal.at))
            .where(refusal.tenant_id == tenant_id, refusal.at >= _start_of_day(now, tenant.timezone))
            .group_by(refusal.gateway_id)
        )
    }
    status = []
    for gw in gateways:
        registering = gw.auth == models.GatewayAuth.CREDENTIALS
        count, last = refused.get(gw.id, (0, None))
        status.append(
            {
                "id": gw.id,
                "name": gw.name,
                "auth": gw.auth.value,
                "channels": gw.channels,
                "numbers": [n.national for n in gw.numbers],
                "address": gw.address,
                "cidr": gw.cidr.split(",") if gw.cidr else [],
                "registered": (gw.name in contacts) if registering else None,
                "contacts": sorted(contacts.get(gw.name, [])),
                "channels_in_use": int(in_use.get(gw.id, 0)),
                "refused_today": int(count),
                "last_refused_at": last,
            }
        )
    return status
