"""Classify a call leg with the numbering code routing uses, and link it to tenant, user and number.

Who pays for what (docs/decisions.md "Who pays for a call"):
- an A leg from a phone (context = its tenant's domain) is classified by what was dialled: internal
  (extension, park slot, feature code, the tenant's own number), on-net, emergency, or an external
  class (fixed, mobile, ip, toll_free, international, service); the charge is rated on this leg;
- an A leg from the carrier (context `public`) is `inbound` to the DID's tenant (free);
- a B leg is `leg` (free: its call is rated on the A leg), except a B leg to the carrier gateway
  whose A leg did not dial that external number itself: a forward (always / no answer / IVR) to an
  external number, charged to the tenant whose configuration forwarded it.
- customer gateways: a leg whose `sip_gateway_name` (set by mod_sofia on gateway legs) or
  `kumo_gateway` variable names a gateway other than the carrier keeps it in `gateway`; rating
  charges such calls 0 yen (see fsctl.billing.rating).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fsctl.cdr.parse import Leg
from fsctl.numbering import NumberingPlan, classify, default_plan
from fsctl.numbers import NumberError, to_national
from fsctl.routing.calls import outbound_caller_id
from fsctl.routing.plan import CARRIER_CONTINUATION_PREFIX, CARRIER_GATEWAY
from fsctl.routing.snapshot import TenantSnap

EXTERNAL = ("fixed", "mobile", "ip", "toll_free", "international", "service")
INTERNAL_KINDS = ("extension", "park_slot", "feature")


@dataclass(frozen=True)
class TenantRef:
    """What classification needs of a tenant: the routing snapshot and its users' row ids."""

    snap: TenantSnap
    user_ids: dict[str, int]


class Resolver(Protocol):
    """Looks tenants up for classification; implemented over the database in fsctl.cdr.store."""

    def by_id(self, tenant_id: int) -> TenantRef | None: ...

    def by_domain(self, domain: str) -> TenantRef | None: ...

    def by_number(self, national: str) -> TenantRef | None: ...


@dataclass(frozen=True)
class Classification:
    call_class: str
    direction: str  # out, in, internal
    tenant_id: int | None = None
    user_id: int | None = None
    extension: str | None = None
    number: str | None = None
    caller: str = ""
    destination: str = ""
    remote: str = ""
    gateway: str | None = None


def _national(number: str) -> str | None:
    try:
        return to_national(number)
    except NumberError:
        return None


def _phone_tenant(leg: Leg, resolver: Resolver, context: str) -> TenantRef | None:
    tenant_id = leg.variables.get("kumo_tenant_id", "")
    if tenant_id.isdigit():
        ref = resolver.by_id(int(tenant_id))
        if ref is not None:
            return ref
    for name in ("domain_name", "user_context", "dialed_domain"):
        domain = leg.variables.get(name)
        if domain:
            ref = resolver.by_domain(domain.lower())
            if ref is not None:
                return ref
    return resolver.by_domain(context.lower()) if context else None


def _dialled(dialled: str, ref: TenantRef, resolver: Resolver, plan: NumberingPlan):
    def on_net(national: str) -> bool:
        other = resolver.by_number(national)
        return other is not None and other.snap.id != ref.snap.id

    return classify(dialled, ref.snap, plan, on_net)


def _class_of(kind: str, number: str, ref: TenantRef) -> tuple[str, str]:
    if kind in INTERNAL_KINDS:
        return ("feature" if kind != "extension" else "internal"), "internal"
    if kind in EXTERNAL and (number in ref.snap.numbers or number in ref.snap.carried):
        return "internal", "internal"  # the tenant's own number (or one its gateway carries): routed inside
    if kind in EXTERNAL or kind in ("on_net", "emergency"):
        return kind, "out"
    return "unknown", "out"


def _caller_number(ref: TenantRef, extension: str | None) -> str | None:
    user = ref.snap.users.get(extension or "")
    e164, _why = outbound_caller_id(ref.snap, user)
    return "0" + e164[3:] if e164 and e164.startswith("+81") else None


def classify_leg(leg: Leg, resolver: Resolver, plan: NumberingPlan | None = None) -> Classification:
    """Class, direction and links of one leg (see the module docstring for the rules)."""
    plan = plan or default_plan()
    v = leg.variables
    gateway = v.get("kumo_gateway") or v.get("sip_gateway_name") or None
    if leg.is_b_leg:
        return _b_leg(leg, resolver, plan, gateway)
    context, dialled = leg.first.context, leg.first.destination
    caller = leg.first.caller
    if context == "public":
        national = _national(dialled)
        ref = resolver.by_number(national) if national else None
        return Classification(
            "inbound",
            "in",
            ref.snap.id if ref else None,
            number=national,
            caller=caller,
            destination=dialled,
            remote=caller,
            gateway=gateway,
        )
    ref = _phone_tenant(leg, resolver, context)
    if ref is not None and context.startswith("gw_"):
        # From a customer gateway (context gw_<id>.<domain>): inbound to a carried number.
        return Classification(
            "inbound",
            "in",
            ref.snap.id,
            number=_national(dialled),
            caller=caller,
            destination=dialled,
            remote=caller,
            gateway=gateway,
        )
    if ref is None:
        return Classification(
            "unknown", "out", caller=caller, destination=dialled, remote=dialled, gateway=gateway
        )
    extension = v.get("user_name") or v.get("sip_auth_username") or caller
    if extension not in ref.snap.users:
        extension = None
    number = _dialled(dialled, ref, resolver, plan)
    call_class, direction = _class_of(number.kind, number.number, ref)
    remote = number.e164 if number.kind == "international" else number.number
    return Classification(
        call_class,
        direction,
        ref.snap.id,
        ref.user_ids.get(extension or ""),
        extension,
        _caller_number(ref, extension) if direction == "out" else None,
        caller=caller,
        destination=dialled,
        remote=remote or dialled,
        gateway=gateway,
    )


def _gateway_target(leg: Leg) -> str:
    v = leg.variables
    for name in ("sip_req_user", "sip_to_user"):
        if v.get(name):
            return v[name]
    return (v.get("channel_name") or "").rsplit("/", 1)[-1].split("@", 1)[0]


def _b_leg(leg: Leg, resolver: Resolver, plan: NumberingPlan, gateway: str | None) -> Classification:
    v = leg.variables
    origin = leg.originator
    caller = origin.caller if origin else leg.first.caller
    if gateway == CARRIER_GATEWAY and origin is not None:
        if origin.context == "public":
            national = _national(origin.destination)
            ref = resolver.by_number(national) if national else None
        elif origin.context.startswith(CARRIER_CONTINUATION_PREFIX):
            # A carrier call hunted again (after no answer, an IVR choice) in public_<domain>: the
            # context names the tenant whose configuration forwarded it out.
            ref = resolver.by_domain(origin.context[len(CARRIER_CONTINUATION_PREFIX) :])
        else:
            ref = _phone_tenant(leg, resolver, origin.context)
            if ref is not None:
                first = _dialled(origin.destination, ref, resolver, plan)
                if first.kind in EXTERNAL and first.number not in ref.snap.numbers:
                    # The phone dialled this external number itself: its A leg carries the charge.
                    return Classification(
                        "leg",
                        "out",
                        ref.snap.id,
                        caller=caller,
                        destination=origin.destination,
                        remote=origin.destination,
                        gateway=gateway,
                    )
        if ref is not None:
            target = _gateway_target(leg)
            number = _dialled(target, ref, resolver, plan)
            call_class, _direction = _class_of(number.kind, number.number, ref)
            remote = number.e164 if number.kind == "international" else number.number
            return Classification(
                call_class,
                "out",
                ref.snap.id,
                caller=caller,
                destination=target,
                remote=remote or target,
                gateway=gateway,
                number=_caller_number(ref, None),
            )
    # A leg to a phone (bridge user/EXT@domain): the user who received the call.
    ref = _phone_tenant(leg, resolver, origin.context if origin else "")
    extension = v.get("dialed_user") or leg.first.destination
    if ref is None or extension not in ref.snap.users:
        return Classification(
            "leg",
            "in",
            ref.snap.id if ref else None,
            caller=caller,
            destination=leg.first.destination,
            remote=caller,
            gateway=gateway,
        )
    return Classification(
        "leg",
        "in",
        ref.snap.id,
        ref.user_ids.get(extension),
        extension,
        caller=caller,
        destination=extension,
        remote=caller,
        gateway=gateway,
    )
