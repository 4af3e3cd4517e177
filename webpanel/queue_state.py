"""What the panel and the API show of call queues now: the agents and whether they are logged in,
and the callers waiting in each queue (kept by the service from mod_callcenter's events)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.queues.agents import logged_in_agents


def agent_rows(session: Session, tenant_id: int) -> list[dict[str, Any]]:
    """Every agent of the tenant's queues: extension, name, their queues, logged in or not (a few
    queries whatever the tenant's size: the live view asks every few seconds)."""
    members = session.execute(
        select(models.CallQueueAgent.extension, models.CallQueue.number)
        .join(models.CallQueue, models.CallQueue.id == models.CallQueueAgent.queue_id)
        .where(models.CallQueueAgent.tenant_id == tenant_id)
        .order_by(models.CallQueue.number)
    )
    queues: dict[str, list[str]] = {}
    for extension, number in members:
        queues.setdefault(extension, []).append(number)
    names = {
        extension: name
        for extension, name in session.execute(
            select(models.User.extension, models.User.name).where(
                models.User.tenant_id == tenant_id, models.User.extension.in_(list(queues))
            )
        )
    }
    logged_in = logged_in_agents(session, tenant_id)
    return [
        {
            "extension": extension,
            "name": names.get(extension, ""),
            "queues": numbers,
            "logged_in": extension in logged_in,
        }
        for extension, numbers in sorted(queues.items())
    ]


def waiting_callers(session: Session, tenant: models.Tenant) -> list[dict[str, Any]]:
    """Callers in the tenant's queues now, longest waiting first. A row whose call the live calls no
    longer hold (the caller left while the service's event socket was down) is not shown."""
    live = select(models.LiveCall.uuid)  # by uuid alone: a carrier leg may carry no tenant
    rows = session.scalars(
        select(models.QueueCaller)
        .where(models.QueueCaller.tenant_id == tenant.id, models.QueueCaller.uuid.in_(live))
        .order_by(models.QueueCaller.since)
    )
    now = dt.datetime.now(dt.UTC)
    out = []
    for row in rows:
        since = row.since if row.since.tzinfo else row.since.replace(tzinfo=dt.UTC)
        out.append(
            {
                "queue": row.queue_number,
                "caller": row.caller_number,
                "name": row.caller_name,
                "since": since.isoformat(),
                "waiting_seconds": max(0, int((now - since).total_seconds())),
                "agent": row.agent or None,
            }
        )
    return out
