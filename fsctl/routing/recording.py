"""Call recording in routing plans: the dialplan actions that record a call (pure, no database).

`record_session` (mod_dptools) records the channel it runs on; variables read by it
(src/switch_ivr_async.c, switch_ivr_record_session_event): RECORD_STEREO (caller left, callee right),
RECORD_BRIDGE_REQ (start only once bridged: an unanswered call, a voicemail deposit or an IVR alone
produce no recording). recording_follow_transfer (mod_sofia, mod_commands uuid_transfer) and
recording_follow_attxfer (mod_dptools att_xfer) move the recording to the new call leg when the
call is transferred, so it continues across transfers.

File layout (documented in README): <recordings_root>/<tenant domain>/<yyyy>/<mm>/<dd>/<call uuid>.wav,
the day in the tenant's timezone when the call started; `${kumo_recordings_dir}` is a global variable
of the switch (freeswitch/vars.xml) equal to the service's FSCTL_RECORDINGS_DIR, `${uuid}` the
recorded channel's UUID at the time the path is set.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PATH_VAR = "kumo_record_path"


def recording_path(domain: str, now: dt.datetime, timezone: str) -> str:
    """The path record_session gets (FreeSWITCH expands the two variables)."""
    day = now.astimezone(ZoneInfo(timezone))
    return f"${{kumo_recordings_dir}}/{domain}/{day:%Y/%m/%d}/${{uuid}}.wav"


def already_recording(actions: list) -> bool:
    return any(a.app == "record_session" for a in actions)


def record_here(plan, domain: str, extension: str, direction: str, now: dt.datetime, timezone: str) -> None:
    """Record this channel from the moment it is bridged (once per call)."""
    if already_recording(plan.actions):
        return
    plan.decide(
        f"record the call ({extension} has call recording)", f"{direction}; stereo, follows transfers"
    )
    plan.add("set", "RECORD_STEREO=true")
    plan.add("set", "RECORD_BRIDGE_REQ=true")
    plan.add("set", "recording_follow_transfer=true")
    plan.add("set", "recording_follow_attxfer=true")
    plan.add("set", f"kumo_record_user={extension}")
    plan.add("set", f"kumo_record_direction={direction}")
    plan.add("set", f"{PATH_VAR}={recording_path(domain, now, timezone)}")
    plan.add("record_session", f"${{{PATH_VAR}}}")


def leg_prefix(domain: str, extension: str, direction: str, now: dt.datetime, timezone: str) -> str:
    """Dial-string variables that record one ring-group member's leg only if that member answers."""
    path = recording_path(domain, now, timezone).replace("${uuid}", "${uuid}-" + extension)
    return (
        "[RECORD_STEREO=true,recording_follow_transfer=true,recording_follow_attxfer=true,"
        f"kumo_record_user={extension},kumo_record_direction={direction},"
        f"execute_on_answer=record_session {path}]"
    )
