"""Call parking: park on a slot of the tenant's own lot, or pick up the call parked there."""

from __future__ import annotations

from fsctl.routing.plan import Plan, park_lot
from fsctl.routing.snapshot import TenantSnap


def park(
    p: Plan, tenant: TenantSnap, slot: int, caller: str, blind_transfer: bool, referred_by: str | None
) -> None:
    """Park on a slot of the tenant's own lot, or pick up the call parked there.

    `valet_park <lot> <slot>` on a slot that holds a call bridges to that call (mod_valet_parking):
    right for a phone dialling the slot, wrong for a call blind-transferred there, which would be
    bridged to the parked caller. A transferred call therefore takes the first free slot from the
    one asked for (`auto in`, which never picks a taken slot), then any free slot of the range."""
    p.kind = "feature"
    first, last = next(r for r in tenant.park_ranges if r[0] <= slot <= r[1])
    lot = park_lot(tenant.domain)
    parker = referred_by if referred_by in tenant.users else caller
    p.add("set", f"kumo_parked_by={parker}")
    p.add("answer")
    if blind_transfer:
        p.decide(
            f"{parker} transfers the call to park slot {slot}",
            f"parked in {slot}, or the next free slot when it is taken (never onto a parked call)",
        )
        # mod_valet_parking's upper bound is exclusive (next_id: i < max).
        p.add("valet_park", f"{lot} auto in {slot} {last + 1}")
        if slot > first:
            p.add("valet_park", f"{lot} auto in {first} {slot}")
        p.decide("no free slot", "the lot is full; hang up")
        p.add("hangup", "NORMAL_TEMPORARY_FAILURE")
    else:
        p.decide(f"park slot {slot}", "pick up the call parked there, or park this call there if it is free")
        p.add("valet_park", f"{lot} {slot}")
