"""The day/night override from a phone: *21 closes a schedule (臨時休業), *22 opens it (臨時営業),
*23 ends the override (dialplans/features.yaml), each followed by the schedule's number (optional
with one schedule).

Pure: the dialplan answers the call, fires a CUSTOM event naming the tenant, the schedule and the
mode, plays a confirmation tone and hangs up. The service writes the override from that event
(fsctl.esl.override): a dialplan lookup only reads, and the tenant id in the event comes from this
plan (the caller's own tenant, checked by the lookup), never from the caller.
"""

from __future__ import annotations

from fsctl.numbering import Classified
from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import TenantSnap

OVERRIDE_EVENT = "kumo::schedule_override"
# feature name (numbering) -> the mode written ("none": the override ends).
FEATURE_MODES = {"schedule_closed": "closed", "schedule_open": "open", "schedule_clear": "none"}
# What the caller hears once the event is fired (mod_tone_stream, TGML: %(on ms, off ms, Hz)):
# falling for closed, rising for open, one long tone for cleared. Tones need no prompt files.
CONFIRMATION_TONES = {
    "closed": "tone_stream://%(250,80,1320);%(400,0,880)",
    "open": "tone_stream://%(250,80,880);%(400,0,1320)",
    "none": "tone_stream://%(700,0,1000)",
}


def schedule_number(tenant: TenantSnap, number: int) -> str | None:
    """The name of the tenant's schedule number `number` (1 = the first by name), or None."""
    names = sorted(tenant.schedules)
    return names[number - 1] if 1 <= number <= len(names) else None


def plan_override_code(p: Plan, tenant: TenantSnap, number: Classified, caller: str) -> None:
    """Plan *21 / *22 / *23 [n] dialled by `caller` of `tenant`."""
    mode = FEATURE_MODES[number.feature or ""]
    position = int(number.feature_arg) if number.feature_arg else 1
    name = schedule_number(tenant, position)
    if name is None:
        p.refuse(
            "invalid_number",
            "UNALLOCATED_NUMBER",
            f"no schedule number {position} ({len(tenant.schedules)} schedules)",
        )
        return
    p.decide(
        f"override of schedule {name!r} from {caller}",
        {"closed": "forced closed", "open": "forced open", "none": "override ended"}[mode],
    )
    p.add("answer")
    p.add(
        "event",
        f"Event-Name=CUSTOM,Event-Subclass={OVERRIDE_EVENT},kumo_tenant={tenant.id},"
        f"kumo_schedule={name},kumo_override={mode},kumo_by={caller}",
    )
    p.add("playback", CONFIRMATION_TONES[mode])
    p.add("hangup", "NORMAL_CLEARING")
