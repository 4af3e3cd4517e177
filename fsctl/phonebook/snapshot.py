"""The phonebook's part of a TenantSnap (a snapshot part fsctl.wiring names): national number -> name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import Dest

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

_ENTRIES = "SELECT name, numbers FROM phonebook_entries WHERE tenant_id = ? ORDER BY id"


def phonebook_snapshot_part(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments: every entry's numbers mapped to its name (the first entry wins
    when two entries share a number, as the tenant file and the panel refuse that)."""
    names: dict[str, str] = {}
    for name, numbers in fetch_all(_ENTRIES, (tenant_id,)):
        for number in (numbers or "").split():
            names.setdefault(number, name)
    return {"phonebook": names}
