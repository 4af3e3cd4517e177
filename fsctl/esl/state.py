"""Live state in the database: registrations, calls, ringing calls, parked calls.

Written by the ESL handlers with Core statements (one transaction per batch of events, never an ORM
session, so live traffic never bumps a tenant's config_version), replaced from the switch's own
answers after every reconnect, and read by the panel with `live_state(engine, tenant_id)`.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from fsctl import models
from fsctl.routing.plan import park_lot  # noqa: F401 - the lot name, defined beside the dialplan

REG = models.LiveRegistration.__table__
CALL = models.LiveCall.__table__
RING = models.RingingCall.__table__
PARK = models.ParkedCall.__table__
TENANT = models.Tenant.__table__


def lot_domain(lot: str) -> str:
    return lot.split("@", 1)[1].lower() if "@" in lot else lot.lower()


def from_us(microseconds: int) -> dt.datetime:
    if microseconds <= 0:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(microseconds / 1_000_000, dt.UTC)


class Tenants:
    """Domain -> tenant id, cached; an unknown domain re-reads the table at most every few seconds."""

    def __init__(self, engine: Engine, refresh_seconds: float = 5.0):
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._ids: dict[str, int] = {}
        self._loaded = 0.0

    def id_of(self, domain: str, conn: Connection | None = None) -> int | None:
        if not domain:
            return None
        domain = domain.lower()
        found = self._ids.get(domain)
        if found is None and time.monotonic() - self._loaded > self.refresh_seconds:
            self.reload(conn)
            found = self._ids.get(domain)
        return found

    def reload(self, conn: Connection | None = None) -> None:
        query = select(TENANT.c.domain, TENANT.c.id)
        if conn is not None:
            rows = conn.execute(query).all()
        else:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        self._ids = {domain: tenant_id for domain, tenant_id in rows}
        self._loaded = time.monotonic()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite returns naive datetimes
    return value


def live_state(
    engine: Engine, tenant_id: int, now: dt.datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """What the panel shows for one tenant: devices online, calls, ringing and parked calls."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        regs = (
            conn.execute(select(REG).where(REG.c.tenant_id == tenant_id).order_by(REG.c.extension, REG.c.id))
            .mappings()
            .all()
        )
        calls = (
            conn.execute(
                select(CALL).where(CALL.c.tenant_id == tenant_id).order_by(CALL.c.started_at, CALL.c.uuid)
            )
            .mappings()
            .all()
        )
        ringing = (
            conn.execute(
                select(RING).where(RING.c.tenant_id == tenant_id).order_by(RING.c.since, RING.c.uuid)
            )
            .mappings()
            .all()
        )
        parked = (
            conn.execute(select(PARK).where(PARK.c.tenant_id == tenant_id).order_by(PARK.c.slot))
            .mappings()
            .all()
        )

    def rows(items, *times: str) -> list[dict[str, Any]]:
        out = []
        for item in items:
            row = dict(item)
            for key in times:
                row[key] = _aware(row.get(key))
            out.append(row)
        return out

    return {
        "registrations": [r for r in rows(regs, "expires_at", "updated_at") if r["expires_at"] > now],
        "calls": rows(calls, "started_at", "answered_at"),
        "ringing": rows(ringing, "since"),
        "parked": rows(parked, "since", "rang_back_at"),
    }


def outside_lines_in_use(conn: Connection, tenant_id: int) -> int:
    """How many of the tenant's contracted outside channels calls hold now (live_calls.external)."""
    return conn.execute(
        select(func.count()).select_from(CALL).where(CALL.c.tenant_id == tenant_id, CALL.c.external.is_(True))
    ).scalar_one()


def ringing_on(engine: Engine, tenant_id: int, extension: str) -> list[dict[str, Any]]:
    """Calls ringing on one extension of one tenant, oldest first (directed pickup)."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(RING)
                .where(RING.c.tenant_id == tenant_id, RING.c.extension == extension)
                .order_by(RING.c.since)
            ).mappings()
        ]


def clear_all(conn: Connection) -> None:
    for table in (RING, CALL, PARK, REG):
        conn.execute(delete(table))
