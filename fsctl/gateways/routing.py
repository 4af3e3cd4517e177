"""Outbound through a customer gateway: which way a call leaves, its caller ID, the channel plan. Pure.

`route_external` and `route_emergency` are routing steps (fsctl.routing.seams.OutboundStep, wired in
fsctl.wiring): routing runs them before bridging to the carrier and before an emergency call; both
return False when the call stays with the platform's carrier.

Channel limits: a call through a customer gateway counts against that gateway's plan
(`limit hash kumo_gateway <id> <plan>`), never against the tenant's max_external_channels (realm
kumo_external), which is the platform carrier's cap. mod_hash counts per channel and key (limit_incr_hash:
a second `limit` with the same key on the same channel is not counted again) and releases at hang-up;
limit_ignore_transfer=true keeps the count across the continuation transfers kumo uses (switch_limit.c,
limit_state_handler releases on CS_ROUTING otherwise).
"""

from __future__ import annotations

from fsctl.gateways.contexts import DIAL_VAR, LIMIT_REALM
from fsctl.gateways.snapshot import CarriedSnap, GatewaySnap
from fsctl.numbering import Classified
from fsctl.routing.plan import CARRIER_GATEWAY, Plan
from fsctl.routing.snapshot import TenantSnap, UserSnap

# The profile static gateways are reached from (and send their calls to; freeswitch/sip_profiles).
STATIC_PROFILE = "carrier"


def outbound_gateway(tenant: TenantSnap, user: UserSnap | None) -> tuple[GatewaySnap | None, str]:
    """The gateway an external call of `user` (None: a forward, the tenant's rule) leaves through, and why."""
    if user is not None and user.extension in tenant.user_outbound_via:
        name, whose = tenant.user_outbound_via[user.extension], f"{user.extension}'s own choice"
    else:
        name, whose = (
            tenant.outbound_via,
            f"the tenant's choice for {user.extension if user else 'forwarded calls'}",
        )
    if name is None:
        return None, f"{whose}: the platform's carrier"
    gateway = tenant.gateways.get(name)
    if gateway is None:
        return None, f"{whose} names gateway {name!r}, which no longer exists: the platform's carrier"
    return gateway, f"{whose}: gateway {name!r} ({gateway.channels} ch plan)"


def _representative(tenant: TenantSnap, gateway: GatewaySnap) -> CarriedSnap | None:
    carried = [tenant.carried[n] for n in gateway.numbers if n in tenant.carried]
    for number in carried:
        if number.destination is not None and number.destination.kind in ("ring_group", "schedule", "ivr"):
            return number
    return carried[0] if carried else None


def gateway_caller_id(
    tenant: TenantSnap, gateway: GatewaySnap, user: UserSnap | None
) -> tuple[str | None, str]:
    """One of the numbers the gateway carries (national form, as the customer's line presents it)."""
    if user is not None and user.caller_id in gateway.numbers:
        return user.caller_id, f"{user.extension}'s own number {user.caller_id}, carried by {gateway.name}"
    rep = _representative(tenant, gateway)
    if rep is None:
        return None, f"gateway {gateway.name} carries no number to present"
    why = f"{gateway.name}'s representative number {rep.national}"
    if user is not None and user.caller_id:
        why = f"{user.caller_id} is not carried by {gateway.name}; {why}"
    return rep.national, why


def dial_target(number: Classified) -> str:
    """The number as a Japanese line dials it: national, international as 010 + country code."""
    target = number.number
    if target.startswith("+"):
        target = "010" + target[1:]
    if number.privacy == "withhold":
        target = "184" + target  # the customer's own line withholds its number
    elif number.privacy == "present":
        target = "186" + target
    return target


def bridge_to(plan: Plan, tenant: TenantSnap, gateway: GatewaySnap, target: str) -> None:
    """The dialplan actions that dial `target` through the gateway."""
    if gateway.auth == "credentials":
        # Registered like a phone: its directory dial-string uses this variable (fsctl.gateways.xml).
        plan.add("set", f"{DIAL_VAR}={target}")
        plan.add("bridge", f"user/{gateway.name}@{tenant.domain}")
    else:
        host = f"[{gateway.address}]" if ":" in (gateway.address or "") else gateway.address
        plan.add("bridge", f"sofia/{STATIC_PROFILE}/{target}@{host}:{gateway.port}")


def _count(plan: Plan, gateway: GatewaySnap, limit: int | None) -> None:
    plan.add("set", f"kumo_gateway_id={gateway.id}")
    # The CDR keeps it as the call's gateway; rating prices calls through a customer gateway at 0.
    plan.add("set", f"kumo_gateway={gateway.name}")
    plan.add("set", "limit_ignore_transfer=true")
    if limit is None:
        # A negative max makes `limit` a counter that never refuses (mod_dptools limit_function).
        plan.add("limit", f"hash {LIMIT_REALM} {gateway.id} -1")
    else:
        plan.add("limit", f"hash {LIMIT_REALM} {gateway.id} {limit} !USER_BUSY")


def count_gateway_channel(plan: Plan, gateway: GatewaySnap) -> None:
    """The hard channel plan: the call over it ends busy (486) and is counted as refused (fsctl.gateways.events)."""
    plan.decide(
        "channel plan",
        f"at most {gateway.channels} calls at once through {gateway.name} (in + out); "
        "not counted against the platform carrier's channels",
    )
    _count(plan, gateway, gateway.channels)


def route_external(plan: Plan, tenant: TenantSnap, number: Classified, user: UserSnap | None) -> bool:
    """Plan an external call through the tenant's gateway; False when the carrier takes it."""
    if not tenant.gateways:
        return False  # no gateway: nothing to decide, the plan stays exactly the carrier's
    gateway, why = outbound_gateway(tenant, user)
    plan.decide("outbound route", why)
    if gateway is None:
        return False
    cid, cid_why = gateway_caller_id(tenant, gateway, user)
    if cid is None:
        plan.refuse("gateway_no_number", "OUTGOING_CALL_BARRED", cid_why)
        return True
    plan.decide(f"caller ID {cid}", cid_why)
    count_gateway_channel(plan, gateway)
    plan.add("set", f"effective_caller_id_number={cid}")
    if number.privacy:
        plan.decide(
            f"{'184' if number.privacy == 'withhold' else '186'}", "dialled through the customer's line"
        )
    plan.add("set", "hangup_after_bridge=true")
    target = dial_target(number)
    plan.decide(
        f"out through gateway {gateway.name} to {target}",
        f"{number.kind} ({number.rule}); rated 0, the customer's carrier bills it",
    )
    bridge_to(plan, tenant, gateway, target)
    return True


def route_emergency(plan: Plan, tenant: TenantSnap, number: Classified, user: UserSnap | None) -> bool:
    """An emergency call of a gateway tenant: through the gateway, counted but never refused, and
    through the platform's carrier if the gateway cannot take it. False: carrier only."""
    if not tenant.gateways:
        return False
    gateway, why = outbound_gateway(tenant, user)
    if gateway is None:
        return False
    plan.decide("outbound route", why)
    carried = [
        tenant.carried[n] for n in gateway.numbers if n in tenant.carried and tenant.carried[n].geographic
    ]
    if not carried:
        plan.decide(
            f"gateway {gateway.name} carries no geographic number", "emergency goes through the carrier"
        )
        return False
    cid = carried[0]
    plan.decide(f"caller ID {cid.national}", f"a geographic number carried by {gateway.name}")
    plan.decide("channel plan", f"counted on {gateway.name} but never refused (emergency)")
    _count(plan, gateway, None)
    plan.add("set", f"effective_caller_id_number={cid.national}")
    plan.add("set", "continue_on_fail=true")
    plan.add("set", "hangup_after_bridge=true")
    bridge_to(plan, tenant, gateway, number.number)
    plan.decide("if the gateway cannot take it", "the platform's carrier, with the same number in E.164")
    plan.add("set", f"effective_caller_id_number={cid.e164}")
    plan.add("bridge", f"sofia/gateway/{CARRIER_GATEWAY}/{number.number}")
    return True
