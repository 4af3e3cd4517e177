"""Conference rooms' part of a TenantSnap (a snapshot part fsctl.wiring names)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import Dest, RoomSnap

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

_ROOMS = "SELECT number, name, pin, max_members FROM conference_rooms WHERE tenant_id = ? ORDER BY number"


def rooms_snapshot_part(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments: the tenant's rooms by number."""
    rooms = {
        number: RoomSnap(number, name or "", pin or None, max_members)
        for number, name, pin, max_members in fetch_all(_ROOMS, (tenant_id,))
    }
    return {"rooms": rooms}
