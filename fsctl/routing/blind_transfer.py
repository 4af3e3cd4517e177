"""Blind transfer: where a blind-transferred call may go (the rules are in fsctl.routing.transfer).

A blind transfer goes only to the tenant's own extensions (and its park slots, and straight to a
voicemail box); anything else is refused with a tone, because nobody is left on the line to ask.
"""

from __future__ import annotations

import datetime as dt

from fsctl.numbering import NumberingPlan, classify
from fsctl.routing.calls import Calls
from fsctl.routing.park import park
from fsctl.routing.plan import LIMIT_REALM, Plan
from fsctl.routing.seams import RoutingSteps
from fsctl.routing.snapshot import TenantSnap

# Reorder tone (Japanese busy cadence, 400 Hz 0.5 s on / 0.5 s off), then the call ends.
REFUSED_TONE = "tone_stream://%(500,500,400);loops=4"
BLIND_TARGETS = ("extension", "park_slot")


def plan_blind_transfer(
    tenant: TenantSnap,
    transferee: str,
    dialled: str,
    now: dt.datetime,
    *,
    referred_by: str | None = None,
    refer_host: str | None = None,
    numbering: NumberingPlan,
    steps: RoutingSteps,
) -> Plan:
    """The transferee's hunt after a blind transfer to `dialled` in `tenant`'s context.

    `refer_host`: the host of the REFER's Refer-To (sofia's `sip_refer_to`), i.e. the domain of the
    phone that transferred. On an on-net call the transferee may sit in the *other* tenant's
    context; a Refer-To naming another domain is refused, never routed among this tenant's numbers."""
    p = Plan(
        context=tenant.domain, caller=transferee, dialled=dialled, at=now.isoformat(), tenant=tenant.domain
    )
    p.kind = "transfer"
    calls = Calls(tenant, p, now, numbering, None, tenant.domain, steps)
    if refer_host is not None and refer_host.lower() != tenant.domain:
        return _refuse(
            p, "blind_transfer_foreign", f"the transfer came from {refer_host}, not from {tenant.domain}"
        )
    number = classify(dialled, tenant, numbering, None)
    who = referred_by if referred_by in tenant.users else "a phone"
    if transferee not in tenant.users:
        _show_external_party(p, transferee)
        _count_external_leg(p, tenant)
    p.decide(
        f"blind transfer of {transferee or 'the call'} to {dialled} by {who}", f"{dialled} is {number.kind}"
    )
    if number.kind == "extension":
        calls.router().ring_user(number.number, frozenset(), f"transferred by {who}")
    elif number.kind == "park_slot":
        park(p, tenant, int(number.number), transferee, True, referred_by)
    elif number.kind == "feature" and number.feature == "voicemail_access_other":
        calls.router().voicemail(number.feature_arg or "", f"transferred to voicemail by {who}")
    else:
        _refuse(
            p,
            "blind_transfer_target",
            "a blind transfer goes only to the tenant's own extensions; use an attended transfer "
            "(call the number first) for anything else",
        )
    return p


def _show_external_party(p: Plan, number: str) -> None:
    """An external party (a carrier leg) rings the new target with its own number as number and
    name. A leg that FreeSWITCH created for a call out swaps caller and callee when transferred
    (switch_ivr_session_transfer) and would show the name "Outbound Call"."""
    if number.startswith("+81") and 9 <= len(number) <= 14:
        number = "0" + number[3:]
    if number:
        p.decide(f"the new target sees {number}", "the transferred party's own number")
        p.add("set", f"effective_caller_id_number={number}")
        p.add("set", f"effective_caller_id_name={number}")


def _count_external_leg(p: Plan, tenant: TenantSnap) -> None:
    """Keep a transferred carrier leg in the tenant's channel count: every call that uses a carrier
    channel counts against the tenant's external channels, wherever it is transferred. A carrier call's
    own leg counted itself (`limit_ignore_transfer`); the far leg of a phone's call out was counted
    on the phone's leg, which the transfer hangs up. `-1` counts without ever refusing (the switch
    counts one channel once, mod_hash limit_incr_hash), so a transfer is never cut at the cap."""
    p.decide("channel count", f"the carrier leg stays counted for {tenant.domain} after the transfer")
    p.add("set", "limit_ignore_transfer=true")
    p.add("limit", f"hash {LIMIT_REALM} {tenant.id} -1")


def _refuse(p: Plan, rule: str, why: str) -> Plan:
    p.refused_by = rule
    p.decide("refused with a tone", why)
    p.add("playback", REFUSED_TONE)
    p.add("hangup", "OUTGOING_CALL_BARRED")
    return p
