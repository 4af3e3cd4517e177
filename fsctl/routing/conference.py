"""Conference rooms: a call to a room's number joins the tenant's conference of that room.

Pure: the tenant snapshot and the plan being built are all it reads. mod_conference (the profile
`kumo` of freeswitch/autoload_configs/conference.conf.xml) does the rest: it asks the PIN, caps the
members and plays the tenant's hold music to a member who is alone.
"""

from __future__ import annotations

from fsctl.routing.hold import hold_music
from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import RoomSnap, TenantSnap

PROFILE = "kumo"


def conference_name(number: str, domain: str) -> str:
    """The switch-wide conference of a room: mod_conference has one namespace for the whole switch,
    so the tenant's domain is part of the name and two tenants' rooms 800 never meet."""
    return f"{number}-{domain}"


def join_room(plan: Plan, tenant: TenantSnap, room: RoomSnap) -> None:
    """Answer and join the room: PIN asked when it has one, at most `max_members` members."""
    label = f"room {room.number}" + (f" ({room.name})" if room.name else "")
    pin = "PIN asked" if room.pin else "no PIN"
    plan.decide(label, f"conference of {tenant.domain}, {pin}, at most {room.max_members} members")
    plan.add("answer")
    # Read by mod_conference only when the first member creates the conference (conference_function
    # in mod_conference.c); every member's plan sets the same values, so whoever comes first decides.
    plan.add("set", f"conference_max_members={room.max_members}")
    plan.add("set", f"conference_moh_sound={hold_music(tenant)}")
    # The PIN is enforced only for inbound channels unless this says so; a carrier call or a phone's
    # call is inbound anyway, written out so a transferred or originated leg cannot skip it.
    plan.add("set", "conference_enforce_security=true")
    # `<name>@<profile>+<pin>`: mod_conference asks for the PIN with the profile's pin-sound, says
    # bad-pin-sound after a wrong one and asks again up to pin-retries times, then returns.
    data = f"{conference_name(room.number, tenant.domain)}@{PROFILE}"
    plan.add("conference", f"{data}+{room.pin}" if room.pin else data)
    # Back from the conference: left it, a wrong PIN every time, or the room was full.
    plan.add("hangup", "NORMAL_CLEARING")
