"""Transfers: what keeps a carrier call transferable (where a blind-transferred call may go is
fsctl.routing.blind_transfer's plan).

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

from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import TenantSnap

TRANSFER_TENANT_VAR = "kumo_transfer_tenant"


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
