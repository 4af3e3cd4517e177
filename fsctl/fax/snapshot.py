"""Fax numbers' part of a TenantSnap (a snapshot part fsctl.wiring names)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import Dest

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

_FAX_NUMBERS = "SELECT number FROM fax_numbers WHERE tenant_id = ?"


def fax_snapshot_part(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments: the tenant's fax numbers."""
    return {"fax_numbers": frozenset(number for (number,) in fetch_all(_FAX_NUMBERS, (tenant_id,)))}
