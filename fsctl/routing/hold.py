"""Music on hold: which stream a held party hears, set on the phones' legs by the dialplan.

When a phone puts a call on hold (re-INVITE sendonly/inactive), FreeSWITCH reads `hold_music` on
*that phone's* channel and loops it to the other party (switch_core_media.c, the hold branch of
switch_core_media_toggle_hold: `switch_channel_get_hold_music(session->channel)`, falling back to
`local_stream://moh`; the lookup also falls back to the global variable of freeswitch/vars.xml).
So the variable belongs on every leg that faces one of the tenant's phones:

- the phone that places a call: `export hold_music=...` sets it on its own leg (and on the legs it
  rings, when they are the same tenant's phones);
- a phone that is rung for a carrier call, an on-net call or a park return: `export nolocal:...`,
  only on the phone's leg, so the carrier's (or the other tenant's) leg keeps its own.

The stream is the tenant's own upload named `hold-music` (fsctl audio upload ... hold-music) when it
has one, else the `moh` stream of freeswitch/autoload_configs/local_stream.conf.xml.
"""

from __future__ import annotations

from fsctl.routing.audio import audio_path
from fsctl.routing.plan import Action, Plan
from fsctl.routing.snapshot import TenantSnap

DEFAULT_HOLD_MUSIC = "local_stream://moh"
# The tenant audio name (fsctl.media.audio) that, once uploaded, replaces the default stream.
HOLD_MUSIC_AUDIO = "hold-music"


def hold_music(tenant: TenantSnap) -> str:
    """The stream the tenant's held callers hear."""
    if tenant.hold_music:
        path = audio_path(tenant.domain, tenant.hold_music)
        if path is not None:
            return path
    return DEFAULT_HOLD_MUSIC


def set_hold_music(plan: Plan, tenant: TenantSnap, *, own_leg: bool) -> None:
    """Set the tenant's hold music before a bridge: on this leg and the legs it rings (`own_leg`,
    the caller is this tenant's phone), or only on the legs it rings (the caller is not)."""
    data = f"{'' if own_leg else 'nolocal:'}hold_music={hold_music(tenant)}"
    if Action("export", data) not in plan.actions:  # once per plan (several bridges, fail branches)
        plan.add("export", data)
