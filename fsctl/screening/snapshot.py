"""Caller screening's part of a TenantSnap: which callers without a number each number and user
refuses, and the tenant's blocklist. Pure apart from the `fetch_all` the caller passes in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import BlockSnap, Dest

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

_ANONYMOUS = (
    "SELECT n.national, u.extension, a.refuse FROM screening_anonymous a"
    " LEFT JOIN numbers n ON n.id = a.number_id LEFT JOIN users u ON u.id = a.user_id WHERE a.tenant_id = ?"
)
_BLOCKLIST = "SELECT pattern, prefix, action FROM screening_blocklist WHERE tenant_id = ?"


def screening_snapshot_part(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments: `anonymous_refusals` and `blocklist` (longest pattern first, so
    the most precise entry names the reason)."""
    refusals: dict[str, frozenset[str]] = {}
    for national, extension, refuse in fetch_all(_ANONYMOUS, (tenant_id,)):
        key = f"number:{national}" if national is not None else f"user:{extension}"
        refusals[key] = frozenset(k for k in str(refuse).split(",") if k)
    entries = [
        BlockSnap(str(p), bool(prefix), str(a)) for p, prefix, a in fetch_all(_BLOCKLIST, (tenant_id,))
    ]
    entries.sort(key=lambda e: (-len(e.pattern), e.prefix, e.pattern))
    return {"anonymous_refusals": refusals, "blocklist": tuple(entries)}
