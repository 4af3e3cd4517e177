"""Caller screening of carrier calls: 非通知拒否 (callers without a number) and the tenant's blocklist.

Pure. The dialplan lookup already carries the caller's number and privacy (mod_xml_curl posts the
channel's caller profile and variables), so the check is decided here at lookup time and rendered as
plain dialplan actions: it costs the switch nothing per call beyond the lookup it makes anyway.

What kumo assumes of the carrier's signalling (Japanese carriers on the NGN SIP interface, which
carry the ISUP "cause of no ID" across in the From display name; see docs/decisions.md, *Caller
screening*):
- a number withheld by the caller (非通知, 184): `Privacy: id` with the number in
  P-Asserted-Identity (sofia sets Caller-Privacy-Hide-Number), or a From of
  `"Anonymous" <sip:anonymous@anonymous.invalid>`;
- a payphone (公衆電話): no number, From display name `Coin line/payphone` (or one naming a payphone);
- unavailable (表示圏外: abroad, or a network that cannot deliver a number): no number, From display
  name `Unavailable` or `Interaction with other service` (サービス競合), or no number and no reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import TenantSnap

PRESENTED = "presented"
ANONYMOUS = ("withheld", "payphone", "unavailable")
# What the refused caller hears (kumo's own prompts, fsctl/media/phrases.yaml), before the call ends.
PROMPTS = {
    "withheld": "kumo/screening_withheld.wav",
    "payphone": "kumo/screening_no_number.wav",
    "unavailable": "kumo/screening_no_number.wav",
    "blocked": "kumo/screening_blocked.wav",
}
# The channel variable the call record keeps the screening outcome in (fsctl.cdr.store reads it).
SCREENED_VAR = "kumo_screened"
SCREENED_OUTCOMES = ("blocked", *ANONYMOUS)
_DIGITS = re.compile(r"^\+?[0-9]{3,20}$")


def presentation(fields: Mapping[str, str]) -> str:
    """Whether a carrier call presents its caller's number, else why not (withheld, payphone,
    unavailable), from a dialplan lookup's fields."""
    number = (fields.get("Caller-Caller-ID-Number") or "").strip()
    hidden = (fields.get("Caller-Privacy-Hide-Number") or "").lower() == "true"
    reason = " ".join(
        (fields.get(key) or "").lower()
        for key in ("variable_sip_from_display", "Caller-Caller-ID-Name", "variable_sip_from_user")
    )
    if "payphone" in reason or "coin line" in reason:
        return "payphone"
    if "unavailable" in reason or "interaction with other service" in reason:
        return "unavailable"
    if hidden or "anonymous" in reason or number.lower() == "anonymous":
        return "withheld"
    if not _DIGITS.match(number):
        return "unavailable"  # no number and no reason given: the network could not deliver one
    return PRESENTED


def national_caller(caller: str) -> str:
    """A carrier caller's number as the blocklist holds it: +81 E.164 in national form, else as sent."""
    if caller.startswith("+81") and len(caller) > 4:
        return "0" + caller[3:]
    if caller.startswith("81") and len(caller) >= 11:  # E.164 without the plus, as some carriers send
        return "0" + caller[2:]
    return caller


@dataclass(frozen=True)
class Screened:
    """Why a carrier call is refused: the outcome the history shows, the rule, and the reason."""

    outcome: str  # blocked, withheld, payphone, unavailable
    rule: str  # blocklist, anonymous_refused
    why: str
    announce: bool = True


def screen(
    tenant: TenantSnap, national: str, caller: str, shown: str, user: str | None = None
) -> Screened | None:
    """Whether the tenant refuses this carrier call to its number `national`: a caller without a number
    that the number refuses (else, when the number has no setting of its own and leads straight to
    `user`, that user's setting), or a caller on the blocklist. None = the call goes on."""
    if shown != PRESENTED:
        refused = tenant.anonymous_refusals.get(f"number:{national}")
        owner = f"number {national}"
        if refused is None and user is not None:
            refused = tenant.anonymous_refusals.get(f"user:{user}")
            owner = f"user {user}"
        if refused and shown in refused:
            reason = {
                "withheld": "caller withheld their number",
                "payphone": "the call comes from a payphone",
                "unavailable": "the caller's number is unavailable",
            }[shown]
            return Screened(shown, "anonymous_refused", f"{reason}; {owner} refuses such calls")
    # A withheld number the network still delivered (P-Asserted-Identity with Privacy: id) is matched
    # against the blocklist too: nuisance callers often withhold, and nothing is shown to anyone.
    number = national_caller(caller)
    for entry in tenant.blocklist:
        if entry.matches(number):
            how = f"prefix {entry.pattern}" if entry.prefix else "exact number"
            return Screened(
                "blocked", "blocklist", f"{number} is on the blocklist ({how})", entry.action == "announce"
            )
    return None


def refuse_screened(p: Plan, screened: Screened) -> Plan:
    """End a screened call: answered, an announcement, then the call ends; or refused at once."""
    p.add("set", f"{SCREENED_VAR}={screened.outcome}")
    if screened.announce:
        # Answered, not early media: playback paces itself on the frames it reads, and a channel in
        # early media whose caller sends no RTP yet gave playback nothing to read (seen through the
        # real switch: it stalled until the caller gave up). The caller pays a few seconds of call,
        # as with any PBX's own announcement.
        p.add("answer")
        p.add("playback", PROMPTS[screened.outcome])
    return p.refuse(screened.rule, "CALL_REJECTED", screened.why)
