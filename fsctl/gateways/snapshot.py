"""Customer gateways' part of a TenantSnap: the snapshot part fsctl.snapshots runs for every tenant.

The data types (GatewaySnap, CarriedSnap) belong to the snapshot routing reads (fsctl.routing.snapshot).
Pure apart from the `fetch_all` the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import CarriedSnap, Dest, GatewaySnap

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


__all__ = ["CarriedSnap", "GatewaySnap", "gateway_snap_fields"]
