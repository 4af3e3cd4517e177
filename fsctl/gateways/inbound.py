"""Calls arriving from a customer gateway: only the numbers it carries, routed like any DID. Pure."""

from __future__ import annotations

import datetime as dt

from fsctl.gateways.contexts import gateway_context
from fsctl.gateways.routing import count_gateway_channel
from fsctl.numbering import NumberingPlan
from fsctl.routing.calls import Calls, show_phonebook_name, tenant_refusal
from fsctl.routing.plan import Plan
from fsctl.routing.seams import RoutingSteps
from fsctl.routing.snapshot import TenantSnap


def plan_from_gateway(
    tenant: TenantSnap,
    gateway_id: int,
    dialled: str,
    caller: str,
    now: dt.datetime,
    *,
    national: str | None,
    numbering: NumberingPlan,
    steps: RoutingSteps,
) -> Plan:
    """A call from gateway `gateway_id` of `tenant` to `dialled` (its national form: `national`)."""
    p = Plan(
        context=gateway_context(gateway_id, tenant.domain),
        caller=caller,
        dialled=dialled,
        at=now.isoformat(),
        tenant=tenant.domain,
        kind="inbound",
    )
    gateway = next((g for g in tenant.gateways.values() if g.id == gateway_id), None)
    if gateway is None:
        return p.refuse(
            "unknown_gateway", "CALL_REJECTED", f"gateway {gateway_id} is not one of {tenant.domain}'s"
        )
    p.decide(f"from gateway {gateway.name}", f"{gateway.auth}, {gateway.channels} ch plan")
    carried = tenant.carried.get(national or "")
    if carried is None or carried.gateway != gateway.name:
        return p.refuse(
            "not_carried",
            "UNALLOCATED_NUMBER",
            f"{dialled!r} is not a number gateway {gateway.name} carries ({', '.join(gateway.numbers) or 'none'})",
        )
    p.decide(
        f"{dialled} is {carried.national}",
        f"carried by {gateway.name}: routed like a number of {tenant.domain}",
    )
    refusal = tenant_refusal(tenant, now, external=True)
    if refusal:
        return p.refuse(refusal[0], "CALL_REJECTED", refusal[1])
    count_gateway_channel(p, gateway)
    show_phonebook_name(p, tenant, caller)
    calls = Calls(tenant, p, now, numbering, None, p.context, steps)
    calls.router().destination(carried.destination, frozenset(), f"number {carried.national}")
    return p


def trace_from_gateway(
    tenant: TenantSnap,
    gateway_name: str,
    caller: str,
    dialled: str,
    now: dt.datetime,
    *,
    numbering: NumberingPlan,
    steps: RoutingSteps,
) -> Plan | None:
    """`fsctl trace --gateway NAME`: the plan for a call arriving from that gateway; None if no such gateway."""
    from fsctl.numbers import NumberError, to_national

    gateway = tenant.gateways.get(gateway_name)
    if gateway is None:
        return None
    try:
        national = to_national(dialled)
    except NumberError:
        national = None
    return plan_from_gateway(
        tenant, gateway.id, dialled, caller, now, national=national, numbering=numbering, steps=steps
    )
