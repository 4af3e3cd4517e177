"""Transfers: where a blind-transferred call may go, and what keeps a carrier call transferable.

Blind transfer (a phone sends REFER without Replaces): sofia moves the *other* leg of the call (the
transferee) into the dialplan again with `switch_ivr_session_transfer(b_session, exten, NULL, NULL)`
(sofia.c, sofia_handle_sip_i_refer), which records `<epoch>:<uuid>:bl_xfer:<dest>/<context>/XML`
in transfer_history (switch_ivr.c). The transferee may be a phone's own leg, the leg that rang a
phone (no user_name there, only dialed_user/dialed_domain), or a carrier's leg. A blind transfer
goes only to the tenant's own extensions (and its park slots, and straight to a voicemail box);
anything else is refused with a tone, because nobody is left on the line to ask.

Attended transfer (the phone first calls the target itself, then sends REFER with Replaces): the
consultation call is an ordinary call from the phone and passes every outbound rule (trial,
international, direction, channel limit, caps) in fsctl.routing.calls.plan_from_phone; sofia then
joins the two remote legs without a new dialplan hunt, and each leg keeps the limit it counted. When
the phone sends REFER with Replaces before the target answered, sofia instead sends the transferee
to the dialled number (`switch_ivr_session_transfer(t_session, ext, NULL, NULL)`): that is a blind
transfer and follows the rule above.

A carrier's call lives in the `public` context, and a transfer with no context re-hunts in the
leg's own context (switch_ivr_session_transfer: `force_transfer_context`, else the caller profile's
context), where `102` is no number of ours. So a carrier call answered for a tenant gets
`force_transfer_context=<tenant domain>` and `kumo_transfer_tenant=<tenant id>` (the lookup trusts
the latter: only a dialplan can set a `kumo_` variable). `limit_ignore_transfer=true` keeps its
channel counted through every transfer (switch_limit.c, limit_state_handler releases the limits on
each CS_ROUTING otherwise); mod_hash counts one channel once however often it passes `limit`.
"""

from __future__ import annotations

import datetime as dt

from fsctl.numbering import NumberingPlan, classify, default_plan
from fsctl.routing.plan import LIMIT_REALM, Plan
from fsctl.routing.snapshot import TenantSnap

TRANSFER_TENANT_VAR = "kumo_transfer_tenant"
# Reorder tone (Japanese busy cadence, 400 Hz 0.5 s on / 0.5 s off), then the call ends.
REFUSED_TONE = "tone_stream://%(500,500,400);loops=4"
BLIND_TARGETS = ("extension", "park_slot")


def keep_transferable(plan: Plan, tenant: TenantSnap) -> None:
    """On a carrier (or gateway) leg answered for `tenant`: transfers hunt in the tenant's context,
    and the channel limit holds across them."""
    plan.add("set", "limit_ignore_transfer=true")
    plan.add("set", f"force_transfer_context={tenant.domain}")
    plan.add("set", f"{TRANSFER_TENANT_VAR}={tenant.id}")


def mark_far_leg(plan: Plan, tenant: TenantSnap) -> None:
    """On a phone's call out through the carrier: the far party's leg (created by the bridge, in the
    phone's context) may be blind-transferred by the phone; the lookup needs to know its tenant."""
    plan.add("export", f"nolocal:{TRANSFER_TENANT_VAR}={tenant.id}")


def plan_blind_transfer(
    tenant: TenantSnap,
    transferee: str,
    dialled: str,
    now: dt.datetime,
    *,
    referred_by: str | None = None,
    refer_host: str | None = None,
    numbering: NumberingPlan | None = None,
) -> Plan:
    """The transferee's hunt after a blind transfer to `dialled` in `tenant`'s context.

    `refer_host`: the host of the REFER's Refer-To (sofia's `sip_refer_to`), i.e. the domain of the
    phone that transferred. On an on-net call the transferee may sit in the *other* tenant's
    context; a Refer-To naming another domain is refused, never routed among this tenant's numbers."""
    from fsctl.routing.calls import _Calls, _park

    numbering = numbering or default_plan()
    p = Plan(
        context=tenant.domain, caller=transferee, dialled=dialled, at=now.isoformat(), tenant=tenant.domain
    )
    p.kind = "transfer"
    calls = _Calls(tenant, p, now, numbering, None, tenant.domain)
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
        _park(p, tenant, int(number.number), transferee, True, referred_by)
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
    """Keep a transferred carrier leg in the tenant's channel count (DECISIONS 9). A carrier call's
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
