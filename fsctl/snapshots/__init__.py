"""Tenants' routing snapshots, read once per (tenant, config_version) for every reader.

Dialplan lookups, `fsctl trace` and CDR classification use the same `Snapshots`: the same raw-row
loader (fsctl.snapshots.rows) with the same feature parts, so a trace shows exactly what FreeSWITCH
gets. A committed change bumps the tenant's config_version, so a cached snapshot never outlives it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from fsctl.routing.snapshot import TenantSnap
from fsctl.snapshots.rows import FetchAll, SnapshotPart, load_snapshot_rows

_BY_ID = "SELECT id, config_version FROM tenants WHERE id = ?"
_BY_DOMAIN = "SELECT id, config_version FROM tenants WHERE domain = ?"
_BY_NUMBER = (
    "SELECT t.id, t.config_version FROM numbers n JOIN tenants t ON t.id = n.tenant_id WHERE n.national = ?"
)
_QMARK = re.compile(r"\?")


class Cache(Protocol):
    def get(self, key: Hashable) -> Any: ...

    def put(self, key: Hashable, value: Any) -> None: ...


class _Dict:
    """An unbounded cache for short-lived readers (a trace, a test)."""

    def __init__(self) -> None:
        self._data: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        return self._data.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        self._data[key] = value


class Snapshots:
    """Load and cache TenantSnaps, keyed by (tenant id, config_version)."""

    def __init__(self, parts: Sequence[SnapshotPart], cache: Cache | None = None):
        self.parts = tuple(parts)
        self.cache = cache if cache is not None else _Dict()

    def snapshot(self, fetch_all: FetchAll, row: Sequence[Any] | None) -> TenantSnap | None:
        """The snapshot of a (tenant id, config_version) row, loading it on a miss."""
        if row is None:
            return None
        key = ("snapshot", int(row[0]), int(row[1]))
        snap = self.cache.get(key)
        if snap is None:
            snap = load_snapshot_rows(fetch_all, key[1], self.parts)
            if snap is None:
                return None
            # Cached under the version just read: a newer commit bumps the version and misses the cache.
            self.cache.put(key, snap)
        return snap

    def reaching(self, fetch_all: FetchAll, national: str) -> TenantSnap | None:
        """The owner of this number (national form) with only the users a call to it can reach, or
        None: what routing a carrier call to the number reads (the whole snapshot when cached)."""
        row = _first(fetch_all, _BY_NUMBER, national)
        if row is None:
            return None
        whole = self.cache.get(("snapshot", int(row[0]), int(row[1])))
        if whole is not None:
            return whole
        key = ("reach", int(row[0]), int(row[1]), national)
        snap = self.cache.get(key)
        if snap is None:
            snap = load_snapshot_rows(fetch_all, key[1], self.parts, reach=national)
            if snap is None:
                return None
            self.cache.put(key, snap)
        return snap

    def by_id(self, fetch_all: FetchAll, tenant_id: int) -> TenantSnap | None:
        """The tenant with this id, or None."""
        return self.snapshot(fetch_all, _first(fetch_all, _BY_ID, tenant_id))

    def by_domain(self, fetch_all: FetchAll, domain: str) -> TenantSnap | None:
        """The tenant of this SIP domain, or None."""
        return self.snapshot(fetch_all, _first(fetch_all, _BY_DOMAIN, (domain or "").lower()))

    def by_number(self, fetch_all: FetchAll, national: str) -> TenantSnap | None:
        """The tenant owning this number (national form), or None."""
        return self.snapshot(fetch_all, _first(fetch_all, _BY_NUMBER, national))


def _first(fetch_all: FetchAll, sql: str, value: Any) -> tuple | None:
    rows = fetch_all(sql, (value,))
    return rows[0] if rows else None


def session_rows(session: Session) -> FetchAll:
    """`fetch_all` on an ORM session's connection (`?` placeholders, as on the lookup store)."""
    connection = session.connection()
    qmark = connection.dialect.paramstyle == "qmark"

    def fetch_all(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        text = sql if qmark else _QMARK.sub("%s", sql)
        return [tuple(row) for row in connection.exec_driver_sql(text, tuple(params)).fetchall()]

    return fetch_all


__all__ = ["FetchAll", "SnapshotPart", "Snapshots", "load_snapshot_rows", "session_rows"]
