"""Do not disturb from the phone: `*78` on, `*79` off (dialplans/features.yaml).

The dialplan cannot write the database, so the feature code's plan fires a CUSTOM event that the
service's inbound event socket turns into the stored setting (fsctl.esl.dnd), then tells the
caller it is done. The same plan sets the busy lamp: a PRESENCE_IN event for `dnd+<ext>@<domain>`.
"""

from __future__ import annotations

from fsctl.routing.plan import Plan

# The CUSTOM event subclass the feature code fires (fsctl.esl.dnd listens to it).
DND_EVENT = "kumo::dnd"
# The presence "proto" of the lamp: mod_sofia stores a SUBSCRIBE to `dnd+101@acme.example` with
# proto "dnd" and user "101", and sends it the PRESENCE_IN events whose proto is "dnd" and from is
# `101@acme.example` (the scheme mod_valet_parking uses for `park+<slot>`).
DND_PROTO = "dnd"
DND_ON_PROMPT = "kumo/dnd_on.wav"
DND_OFF_PROMPT = "kumo/dnd_off.wav"


def presence_headers(domain: str, extension: str, on: bool) -> dict[str, str]:
    """PRESENCE_IN headers that light (on) or clear the `dnd+<ext>` busy lamp.

    Answer-state confirmed is the lamp on (busy), terminated is off; sofia renders it as a
    dialog-info NOTIFY (alt_event_type dialog) to BLF subscribers, as for a parked call."""
    answer, channel_state, rpid, status = (
        ("confirmed", "CS_ROUTING", "active", "Do not disturb")
        if on
        else ("terminated", "CS_HANGUP", "unknown", "Available")
    )
    return {
        "proto": DND_PROTO,
        "login": extension,
        "from": f"{extension}@{domain}",
        "rpid": rpid,
        "force-status": status,
        "event_type": "presence",
        "alt_event_type": "dialog",
        "unique-id": f"dnd-{extension}-{domain}",
        "channel-state": channel_state,
        "answer-state": answer,
        "call-direction": "inbound",
    }


def presence_event(domain: str, extension: str, on: bool) -> str:
    """The `event` application's argument that fires those PRESENCE_IN headers."""
    headers = {"Event-Name": "PRESENCE_IN", **presence_headers(domain, extension, on)}
    return ",".join(f"{k}={v}" for k, v in headers.items())


def lamp_target(to: str) -> tuple[str, str] | None:
    """(extension, domain) of a probed `dnd+<ext>@<domain>`, else None."""
    user, _, domain = to.partition("@")
    proto, plus, extension = user.partition("+")
    if proto != DND_PROTO or not plus or not extension.isdigit() or not domain:
        return None
    return extension, domain.lower()


def set_dnd(p: Plan, domain: str, extension: str, on: bool) -> None:
    """Plan `*78` (on) or `*79` (off) dialled by `extension`: store it, light the lamp, confirm."""
    p.decide(
        f"do not disturb {'on' if on else 'off'} for {extension}",
        "calls follow the busy forward until *79" if on else f"{extension}'s phones ring again",
    )
    p.add("answer")
    # `event` (mod_dptools) fires with these headers first and the channel's data after them; the
    # tenant and extension are ours (the authenticated caller), never a variable the caller could set.
    p.add(
        "event",
        f"Event-Name=CUSTOM,Event-Subclass={DND_EVENT},kumo_domain={domain},kumo_extension={extension},"
        f"kumo_dnd={'on' if on else 'off'}",
    )
    p.add("event", presence_event(domain, extension, on))
    p.add("playback", DND_ON_PROMPT if on else DND_OFF_PROMPT)
    p.add("hangup", "NORMAL_CLEARING")
