"""Customer gateways as plain data inside a TenantSnap, and how both snapshot loaders fill them.

`gateway_snap_fields` reads raw rows (fsctl.routing.snapshot_rows, the hot path); `gateway_snap_fields_orm`
reads the models (fsctl.routing.snapshot_loader); tests/routing/test_snapshot_rows.py checks they agree.
Pure apart from the `fetch_all` / session the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fsctl.routing.snapshot import Dest

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

# One query for the gateways and their numbers (ix_gateways_tenant_id), one for the outbound routes.
_GATEWAYS = (
    "SELECT g.id, g.name, g.auth, g.channels, g.address, g.port, n.national, n.e164, n.destination_id"
    " FROM gateways g LEFT JOIN gateway_numbers n ON n.gateway_id = g.id WHERE g.tenant_id = ?"
    " ORDER BY g.name, n.national"
)
_ROUTES = (
    "SELECT r.user_id, u.extension, g.name FROM outbound_routes r LEFT JOIN users u ON u.id = r.user_id"
    " LEFT JOIN gateways g ON g.id = r.gateway_id WHERE r.tenant_id = ?"
)


@dataclass(frozen=True, slots=True)
class GatewaySnap:
    id: int
    name: str
    auth: str  # credentials (registers) or address (static, ACL)
    channels: int  # the plan: 4, 8, 16 or 32 simultaneous calls, in + out
    address: str | None = None
    port: int = 5060
    numbers: tuple[str, ...] = ()  # carried numbers, national form, sorted


@dataclass(frozen=True, slots=True)
class CarriedSnap:
    national: str
    e164: str
    gateway: str  # the carrying gateway's name
    destination: Dest | None = None

    @property
    def geographic(self) -> bool:
        """A fixed-line number (emergency services locate the caller by it)."""
        return self.national[1] != "0" and not self.national.startswith(("050", "0120", "0800"))


def _build(
    gateway_rows: list[tuple], route_rows: list[tuple], dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    gateways: dict[str, GatewaySnap] = {}
    carried: dict[str, CarriedSnap] = {}
    numbers: dict[str, list[str]] = {}
    heads: dict[str, tuple] = {}
    for gid, name, auth, channels, address, port, national, e164, dest_id in gateway_rows:
        heads.setdefault(name, (gid, name, auth, channels, address, port))
        numbers.setdefault(name, [])
        if national is not None:
            numbers[name].append(national)
            carried[national] = CarriedSnap(national, e164, name, dest(dest_id))
    for name, (gid, _name, auth, channels, address, port) in heads.items():
        gateways[name] = GatewaySnap(
            gid, name, str(auth), channels, address, port, tuple(sorted(numbers[name]))
        )
    default: str | None = None
    per_user: dict[str, str | None] = {}
    for user_id, extension, gateway in route_rows:
        if user_id is None:
            default = gateway
        elif extension is not None:
            per_user[extension] = gateway
    return {"gateways": gateways, "carried": carried, "outbound_via": default, "user_outbound_via": per_user}


def gateway_snap_fields(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments for the tenant's gateways, from raw rows (`dest` maps a destination id)."""
    return _build(fetch_all(_GATEWAYS, (tenant_id,)), fetch_all(_ROUTES, (tenant_id,)), dest)


def gateway_snap_fields_orm(session: Any, tenant: Any) -> dict[str, Any]:
    """The same from the models (the ORM loader; fsctl.trace and the panel)."""
    from sqlalchemy import select

    from fsctl import models
    from fsctl.routing.snapshot_loader import dest_of

    gateways = session.scalars(select(models.Gateway).where(models.Gateway.tenant_id == tenant.id))
    rows: list[tuple] = []
    dests: dict[int, Any] = {}
    for gw in gateways:
        base = (gw.id, gw.name, gw.auth.value, gw.channels, gw.address, gw.port)
        if not gw.numbers:
            rows.append((*base, None, None, None))
        for carried in gw.numbers:
            dests[carried.id] = carried.destination
            rows.append((*base, carried.national, carried.e164, carried.id))
    routes = session.scalars(select(models.OutboundRoute).where(models.OutboundRoute.tenant_id == tenant.id))
    names = {gw_id: name for gw_id, name, *_ in rows}
    extensions = {u.id: u.extension for u in tenant.users}
    route_rows = [(r.user_id, extensions.get(r.user_id), names.get(r.gateway_id)) for r in routes]
    return _build(rows, route_rows, lambda key: dest_of(dests.get(key)) if key is not None else None)
