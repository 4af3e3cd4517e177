"""Entry points: plan a call from a phone (internal/outbound), from the carrier (public), or a continuation.

Pure: the tenant snapshot(s), the numbering plan, the features' routing steps and `now` are arguments;
`on_net(national)` returns the snapshot of the other tenant owning a number (the caller provides the lookup).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fsctl.numbering import Classified, NumberingPlan, classify
from fsctl.routing.conference import join_room
from fsctl.routing.destinations import Router
from fsctl.routing.dnd import set_dnd
from fsctl.routing.fax import receive_fax
from fsctl.routing.hold import set_hold_music
from fsctl.routing.override import FEATURE_MODES, plan_override_code
from fsctl.routing.park import park
from fsctl.routing.plan import (
    CARRIER_GATEWAY,
    LIMIT_REALM,
    Plan,
    last_dial_realm,
    pickup_group,
    safe_text,
)
from fsctl.routing.queues import join_queue, plan_agent_code
from fsctl.routing.recording import record_here
from fsctl.routing.schedules import local_time
from fsctl.routing.screening import PRESENTED, refuse_screened, screen
from fsctl.routing.seams import RoutingSteps
from fsctl.routing.snapshot import Dest, TenantSnap, UserSnap
from fsctl.routing.transfer import keep_transferable, mark_far_leg

TRIAL_DAYS = 30
OnNet = Callable[[str], TenantSnap | None]
EXTERNAL_KINDS = ("fixed", "mobile", "ip", "toll_free", "international", "service", "on_net")


def trial_expired(tenant: TenantSnap, now: dt.datetime) -> bool:
    """A trial tenant past its 30 days, counted on the tenant's calendar: a trial is a month to try
    the tenant's own extensions, after which every call waits for the tenant to sign up."""
    if tenant.status != "trial":
        return False
    today = local_time(now, tenant.timezone).date()
    return today >= tenant.trial_started_on + dt.timedelta(days=TRIAL_DAYS)


def _new_plan(context: str, caller: str, dialled: str, now: dt.datetime, tenant: TenantSnap | None) -> Plan:
    return Plan(
        context=context,
        caller=caller,
        dialled=dialled,
        at=now.isoformat(),
        tenant=tenant.domain if tenant else None,
        language=tenant.language if tenant else None,
        timezone=tenant.timezone if tenant else None,
    )


def tenant_refusal(tenant: TenantSnap, now: dt.datetime, external: bool) -> tuple[str, str] | None:
    """(rule, reason) when the tenant's account state refuses this call, else None."""
    if trial_expired(tenant, now):
        return "trial_expired", f"the trial started {tenant.trial_started_on} ended after {TRIAL_DAYS} days"
    if external and tenant.status == "suspended":
        return "suspended", "the tenant is suspended: external calls are refused"
    if external and tenant.status == "trial":
        return "trial_internal_only", "during the trial only calls between the tenant's own extensions work"
    return None


def number_refusal(tenant: TenantSnap, number: Classified) -> tuple[str, str] | None:
    """(rule, reason) when the dialled number class is not allowed for this tenant, else None."""
    if number.kind == "international" and not tenant.international_calls:
        return "international_disabled", "international calls are not enabled for this tenant"
    if number.kind == "service" and number.blocked_prefix:
        if not any(number.number.startswith(p) for p in tenant.allowed_prefixes):
            return (
                "blocked_prefix",
                f"{number.rule} numbers ({number.blocked_prefix}...) are blocked unless the operator allows them",
            )
    if number.kind == "invalid":
        return "invalid_number", f"{number.dialled!r} is not a number kumo can route ({number.rule})"
    return None


def outbound_caller_id(tenant: TenantSnap, user: UserSnap | None) -> tuple[str | None, str]:
    """The tenant-owned number presented on an external call, and why it was chosen."""
    if user is not None and user.caller_id:
        if user.caller_id in tenant.numbers:
            return tenant.numbers[user.caller_id].e164, f"{user.extension}'s own number {user.caller_id}"
        rep = tenant.representative_number()
        why = f"{user.caller_id} is not the tenant's number any more"
        return (rep.e164, f"{why}; representative number {rep.national}") if rep else (None, why)
    rep = tenant.representative_number()
    if rep is None:
        return None, "the tenant owns no number"
    return rep.e164, f"representative number {rep.national}"


def queue_call(router: Router, number: str, visited: frozenset[str]) -> None:
    """Wait in the tenant's queue `number`; whoever is not answered in time goes on to its overflow."""
    step = f"queue:{number}"
    if step in visited:  # an overflow leading back into the same queue
        router.plan.decide(f"queue {number}", "the caller already left this queue (loop cut); hang up")
        router.plan.add("hangup", "NORMAL_CLEARING")
        return
    queue = router.tenant.queues[number]
    join_queue(router.plan, router.tenant, queue)
    router.destination(queue.overflow, visited | {step}, f"queue {number} overflow")


def show_caller_id(p: Plan, caller: str, tenant: TenantSnap | None = None) -> None:
    """A carrier caller's number as the tenant's phones show it: +81 E.164 in national form; and the
    name of the tenant's phonebook entry holding that number, as the caller's name."""
    national = "0" + caller[3:] if caller.startswith("+81") and 9 <= len(caller) <= 14 else ""
    if national:
        p.decide(f"phones show {national}", f"the carrier's {caller} in national form")
        p.add("set", f"effective_caller_id_number={national}")
    if tenant is not None:
        show_phonebook_name(p, tenant, caller)


def show_phonebook_name(p: Plan, tenant: TenantSnap, caller: str) -> None:
    """The name of the tenant's phonebook entry holding the caller's number (+81 E.164 or national),
    as the caller's name on the phones."""
    national = "0" + caller[3:] if caller.startswith("+81") else caller
    name = tenant.phonebook.get(national) if national.isdigit() and national.startswith("0") else None
    shown = safe_text(name) if name else ""
    if shown:
        p.decide(f"caller {national} is {shown} in the phonebook", "shown as the caller's name")
        # On the incoming leg before the bridge: the phones' legs take it as their caller ID name
        # (the From display name of the INVITE each phone gets).
        p.add("set", f"effective_caller_id_name={shown}")


class Calls:
    """One call being planned: the tenant, the plan so far, and what routes it (numbering plan, the
    features' steps, the on-net lookup); `context` is the context the call was routed in."""

    def __init__(
        self,
        tenant: TenantSnap,
        plan: Plan,
        now: dt.datetime,
        numbering: NumberingPlan,
        on_net: OnNet | None,
        context: str,
        steps: RoutingSteps,
    ):
        self.tenant, self.plan, self.now, self.numbering, self.on_net = tenant, plan, now, numbering, on_net
        self.context = context
        self.steps = steps
        self._on_net_cache: dict[str, TenantSnap | None] = {}

    def router(self, tenant: TenantSnap | None = None) -> Router:
        return Router(
            tenant or self.tenant, self.now, self.plan, self.context, self.numbering, self.forward_external
        )

    def lookup_on_net(self, national: str) -> TenantSnap | None:
        if national in self.tenant.numbers or self.on_net is None:
            return None
        if national not in self._on_net_cache:
            other = self.on_net(national)
            self._on_net_cache[national] = other if other is not None and other.id != self.tenant.id else None
        return self._on_net_cache[national]

    def classify(self, dialled: str) -> Classified:
        return classify(dialled, self.tenant, self.numbering, lambda n: self.lookup_on_net(n) is not None)

    def emergency(self, number: Classified, user: UserSnap | None) -> Plan:
        p, tenant = self.plan, self.tenant
        p.kind = "emergency"
        p.decide(f"{number.number} is an emergency number", "never blocked by any rule")
        for rule, applies in (
            ("trial_internal_only", tenant.status == "trial" and not trial_expired(tenant, self.now)),
            ("trial_expired", trial_expired(tenant, self.now)),
            ("suspended", tenant.status == "suspended"),
            ("inbound_only_user", user is not None and user.direction == "inbound_only"),
            ("channel_limit", True),
            ("call_rate", tenant.external_rate[0] > 0),
            ("calls_per_user", tenant.user_external_calls > 0),
            ("external_suspended", tenant.external_suspended),
        ):
            if applies:
                p.decide(f"bypass {rule}", "emergency calls go out whatever this rule says (logged)")
        for step in self.steps.emergency:  # a tenant's own gateway goes first, the carrier after it
            if step(p, tenant, number, user):
                return p
        geo = tenant.geographic_number()
        if geo is not None:
            cid, why = geo.e164, f"the tenant's geographic number {geo.national}"
        else:
            cid = "+81" + self.numbering.emergency_caller_id[1:]
            why = f"the operator's emergency caller ID {self.numbering.emergency_caller_id}"
        p.decide(f"caller ID {cid}", why)
        p.add("set", f"effective_caller_id_number={cid}")
        p.add("set", "hangup_after_bridge=true")
        p.add("bridge", f"sofia/gateway/{CARRIER_GATEWAY}/{number.number}")
        return p

    def carrier(
        self, tenant: TenantSnap, number: Classified, user: UserSnap | None, privacy: str | None
    ) -> None:
        """Bridge to the carrier: channel limit, caller ID, privacy."""
        p = self.plan
        for step in self.steps.outbound:  # caps (rate, per user, spend), a tenant's own gateway
            if step(p, tenant, number, user):
                return
        cid, why = outbound_caller_id(tenant, user)
        if cid is None:
            p.refuse("no_caller_id", "OUTGOING_CALL_BARRED", why)
            return
        p.decide(f"caller ID {cid}", why)
        p.decide(
            "channel limit", f"at most {tenant.max_external_channels} external calls for {tenant.domain}"
        )
        # limit hash <realm> <resource> <max> !<cause>: over the cap the call ends with that cause (mod_dptools).
        p.add("limit", f"hash {LIMIT_REALM} {tenant.id} {tenant.max_external_channels} !USER_BUSY")
        p.add("set", f"effective_caller_id_number={cid}")
        if privacy == "withhold":
            p.decide("184", "caller ID withheld for this call")
            p.add("privacy", "number")
        elif privacy == "present":
            p.decide("186", "caller ID presented for this call")
        target = number.e164 or number.number
        p.decide(f"out through the carrier to {target}", f"{number.kind} ({number.rule})")
        self.bridge_to_carrier(target)

    def bridge_to_carrier(self, target: str) -> None:
        """Bridge through the carrier gateway (in a cluster its proxy is Kamailio) to `target`."""
        p, tenant = self.plan, self.tenant
        if self.context == tenant.domain:  # the caller is the tenant's phone (not a forwarded carrier call)
            set_hold_music(p, tenant, own_leg=True)
            mark_far_leg(p, tenant)
        p.add("set", "hangup_after_bridge=true")
        p.add("bridge", f"sofia/gateway/{CARRIER_GATEWAY}/{target}")

    def on_net_call(self, other: TenantSnap, number: Classified, user: UserSnap | None) -> None:
        """A call to another tenant's number. Routed inside the platform (free, no carrier channel):
        on this switch when both tenants live on one node (or there are no nodes); when the other
        tenant lives on another node of the cluster its phones are registered there, so the call
        leaves through the carrier gateway, whose proxy in a cluster is Kamailio: Kamailio finds the
        number in kamailio_number_routes and hands the call to that node's carrier profile, which
        routes it as a call to that number (the other tenant's channel limit and screening apply
        there). Across nodes it is still no carrier call of ours: no channel limit here, billed
        on-net (fsctl.cdr classifies the dialled number, not the bridge)."""
        p = self.plan
        p.kind = "on_net"
        across_nodes = other.node is not None and other.node != self.tenant.node
        if across_nodes:
            p.decide(
                f"{number.number} belongs to {other.domain} on node {other.node}",
                f"on-net across nodes ({self.tenant.domain} is on {self.tenant.node or 'no node'}):"
                " through Kamailio to that node, no carrier channel",
            )
        else:
            p.decide(
                f"{number.number} belongs to {other.domain}",
                "on-net: routed inside the platform, free, no carrier channel",
            )
        cid, why = outbound_caller_id(self.tenant, user)
        if cid is not None:
            # The other node takes E.164 like any carrier's and shows it in national form itself.
            shown = cid if across_nodes else "0" + cid[3:]
            p.decide(f"shows {shown}", why)
            p.add("set", f"effective_caller_id_number={shown}")
        name = safe_text(self.tenant.name)
        if name:
            p.add("set", f"effective_caller_id_name={name}")
        if across_nodes:
            self.bridge_to_carrier(number.e164 or number.number)
            return
        dest = other.numbers[number.number].destination if number.number in other.numbers else None
        self.router(other).destination(dest, frozenset(), f"{other.domain} number {number.number}")

    def forward_external(self, router: Router, target: str, visited: frozenset[str]) -> None:
        """A forward to an external number, allowed only where the tenant's outbound rules allow it."""
        p = router.plan
        tenant = router.tenant
        number = classify(target, tenant, self.numbering, None)
        if number.kind in ("extension",):
            router.ring_user(number.number, visited, f"forward to {target}")
            return
        if number.kind == "conference":  # a room's number as a destination (a DID, a menu option...)
            join_room(p, tenant, tenant.rooms[number.number])
            return
        if number.kind == "queue":  # a queue's number as a destination (a DID, a menu option...)
            queue_call(router, number.number, visited)
            return
        if forward_kind_refusal(number) is not None:
            p.refuse("forward_target", "OUTGOING_CALL_BARRED", f"cannot forward to {target} ({number.kind})")
            return
        other = self.lookup_on_net(number.number) if tenant.id == self.tenant.id else None
        refusal = tenant_refusal(tenant, self.now, external=True) or number_refusal(tenant, number)
        if refusal:
            p.refuse(refusal[0], "OUTGOING_CALL_BARRED", f"forward to {target}: {refusal[1]}")
            return
        if other is not None:
            self.on_net_call(other, number, None)
            return
        self.carrier(tenant, number, None, None)


def forward_kind_refusal(number: Classified) -> str | None:
    """The rule refusing a forward to this kind of number (an emergency number, a feature code...)."""
    if number.kind == "emergency" or number.kind not in EXTERNAL_KINDS:
        return "forward_target"
    return None


def external_destination_refusal(
    tenant: TenantSnap, target: str, now: dt.datetime, numbering: NumberingPlan
) -> tuple[str, Classified] | None:
    """(rule, number) when a destination "external <target>" fails at `now` by the rules forward_external
    applies at call time (the panel checks them at save time), else None. On-net numbers count as
    external, as at call time."""
    number = classify(target, tenant, numbering, None)
    if number.kind in ("extension", "conference", "queue"):
        return None
    rule = forward_kind_refusal(number)
    if rule is None:
        refusal = tenant_refusal(tenant, now, external=True) or number_refusal(tenant, number)
        rule = refusal[0] if refusal else None
    return (rule, number) if rule else None


def plan_from_phone(
    tenant: TenantSnap,
    caller: str,
    dialled: str,
    now: dt.datetime,
    *,
    numbering: NumberingPlan,
    steps: RoutingSteps,
    on_net: OnNet | None = None,
    blind_transfer: bool = False,
    referred_by: str | None = None,
) -> Plan:
    """A call dialled by extension `caller` of `tenant` (context = the tenant's domain).

    `blind_transfer`: this hunt is a blind transfer (SIP REFER) of the caller's channel to `dialled`,
    asked for by `referred_by` (an extension of the tenant, when known)."""
    p = _new_plan(tenant.domain, caller, dialled, now, tenant)
    calls = Calls(tenant, p, now, numbering, on_net, tenant.domain, steps)
    user = tenant.users.get(caller)
    if user is None:
        return p.refuse("unknown_caller", "CALL_REJECTED", f"{caller!r} is not a user of {tenant.domain}")
    number = calls.classify(dialled)
    p.decide(f"{dialled} is {number.kind}", f"numbering plan rule {number.rule}")
    if number.kind == "emergency":
        return calls.emergency(number, user)
    if user.direction == "inbound_only" and number.kind != "feature":
        return p.refuse("inbound_only_user", "OUTGOING_CALL_BARRED", f"{caller} is an inbound-only line")
    external = number.kind in EXTERNAL_KINDS
    refusal = tenant_refusal(tenant, now, external) or number_refusal(tenant, number)
    if refusal:
        return p.refuse(
            refusal[0],
            "UNALLOCATED_NUMBER" if refusal[0] == "invalid_number" else "OUTGOING_CALL_BARRED",
            refusal[1],
        )
    if user.recording_enabled and number.kind not in ("feature", "park_slot"):
        record_here(p, tenant.domain, caller, "outbound" if external else "internal", now, tenant.timezone)
    router = calls.router()
    if number.kind == "extension":
        p.kind = "internal"
        router.ring_user(number.number, frozenset(), f"{caller} dials")
    elif number.kind == "conference":
        p.kind = "internal"
        join_room(p, tenant, tenant.rooms[number.number])
    elif number.kind == "queue":
        p.kind = "internal"
        queue_call(router, number.number, frozenset())
    elif number.kind == "park_slot":
        park(p, tenant, int(number.number), caller, blind_transfer, referred_by)
    elif number.kind == "feature":
        _feature(p, router, number, caller)
    elif number.kind == "on_net":
        other = calls.lookup_on_net(number.number)
        calls.on_net_call(other, number, user)
    elif number.number in tenant.numbers:
        p.kind = "internal"
        p.decide(f"{number.number} is the tenant's own number", "routed inside, like an incoming call")
        router.destination(
            tenant.numbers[number.number].destination, frozenset(), f"own number {number.number}"
        )
    elif number.number in tenant.carried:  # a number the tenant's own gateway carries
        p.kind = "internal"
        p.decide(
            f"{number.number} is the tenant's own number (gateway {tenant.carried[number.number].gateway})",
            "routed inside, like an incoming call: no gateway channel, no carrier",
        )
        router.destination(
            tenant.carried[number.number].destination, frozenset(), f"own number {number.number}"
        )
    else:
        p.kind = "outbound"
        calls.carrier(tenant, number, user, number.privacy)
    return p


def _feature(p: Plan, router: Router, number: Classified, caller: str) -> None:
    p.kind = "feature"
    domain = router.tenant.domain
    if number.feature == "voicemail_access":
        p.decide("voicemail access", f"{caller}'s own box")
        p.add("answer")
        # voicemail_authorized=true would make `voicemail check` skip the PIN (voicemail_function in
        # mod_voicemail.c); it is never ours to inherit, so it is cleared before every login.
        p.add("set", "voicemail_authorized=false")
        p.add("voicemail", f"check default {domain} {caller}")
    elif number.feature in ("dnd_on", "dnd_off"):
        set_dnd(p, domain, caller, number.feature == "dnd_on")
    elif number.feature in ("queue_login", "queue_logout"):
        plan_agent_code(p, router.tenant, caller, number.feature == "queue_login")
    elif number.feature == "voicemail_access_other":
        router.voicemail(number.feature_arg or "", "leave a message directly")
    elif number.feature in FEATURE_MODES:
        plan_override_code(p, router.tenant, number, caller)
    elif number.feature == "pickup_directed":
        if number.feature_arg not in router.tenant.users:
            p.refuse("invalid_number", "UNALLOCATED_NUMBER", f"no extension {number.feature_arg} to pick up")
            return
        p.decide(
            f"pick up the call ringing on {number.feature_arg}",
            "intercept the call last dialled to it (kept per tenant by `hash insert`), only while it rings",
        )
        # An answered call is never taken over: intercept refuses a bridged channel with this set.
        p.add("set", "intercept_unbridged_only=true")
        p.add("intercept", f"${{hash(select/{last_dial_realm(domain)}/{number.feature_arg})}}")
        p.add("hangup", "NO_ANSWER")
    else:
        p.decide("group pickup", f"answer a call ringing in the tenant's pickup group {pickup_group(domain)}")
        p.add("pickup", pickup_group(domain))


def plan_from_carrier(
    tenant: TenantSnap | None,
    dialled: str,
    caller: str,
    now: dt.datetime,
    *,
    numbering: NumberingPlan,
    steps: RoutingSteps,
    national: str | None = None,
    shown: str = PRESENTED,
) -> Plan:
    """A call from the carrier (context public) to one of the platform's numbers; `shown` says whether
    the caller's number is presented, else why not (fsctl.routing.screening.presentation)."""
    p = _new_plan("public", caller, dialled, now, tenant)
    p.kind = "inbound"
    if tenant is None or national is None or national not in tenant.numbers:
        return p.refuse("unknown_did", "UNALLOCATED_NUMBER", f"{dialled!r} is not a number of any tenant")
    number = tenant.numbers[national]
    p.decide(f"{dialled} is {national}", f"a number of {tenant.domain}")
    refusal = tenant_refusal(tenant, now, external=True)
    if refusal:
        return p.refuse(refusal[0], "CALL_REJECTED", refusal[1])
    if shown != PRESENTED:
        p.decide(f"the caller's number is not shown ({shown})", "as the carrier signals it")
    dest = number.destination
    screened = screen(tenant, national, caller, shown, dest.target if dest and dest.kind == "user" else None)
    if screened is not None:
        return refuse_screened(p, screened)
    p.decide("channel limit", f"at most {tenant.max_external_channels} external calls for {tenant.domain}")
    p.add("limit", f"hash {LIMIT_REALM} {tenant.id} {tenant.max_external_channels} !USER_BUSY")
    keep_transferable(p, tenant)  # a phone may transfer it; the limit holds (fsctl.routing.transfer)
    show_caller_id(p, caller, tenant)
    if national in tenant.fax_numbers:
        receive_fax(p, tenant, national)
        return p
    calls = Calls(tenant, p, now, numbering, None, "public", steps)
    calls.router().destination(number.destination, frozenset(), f"number {national}")
    return p


def plan_continuation(
    tenant: TenantSnap,
    context: str,
    destination: str,
    visited: frozenset[str],
    caller: str,
    now: dt.datetime,
    *,
    numbering: NumberingPlan,
    steps: RoutingSteps,
    routed_as: str | None = None,
) -> Plan | None:
    """The second hunt after a failed bridge or an IVR choice; None if `destination` is not one.

    `context` is the hunt's own (the answer names it); `routed_as` the context the call was first
    routed in when that differs ("public" for a carrier call hunted again in public_<domain>)."""
    p = _new_plan(context, caller, destination, now, tenant)
    p.kind = "continuation"
    calls = Calls(tenant, p, now, numbering, None, routed_as or context, steps)
    return p if calls.router().continuation(destination, visited) else None


__all__ = ["Calls", "Dest", "plan_continuation", "plan_from_carrier", "plan_from_phone", "trial_expired"]
