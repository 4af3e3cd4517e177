"""A re-INVITE to sendonly gives the other party music on hold; resume restores."""

from __future__ import annotations

import pytest
from kumo_support import tone_wav

from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import ACME, TENANTS, Tenant


@pytest.fixture(scope="module")
def own_music(e2e) -> Tenant:
    """A tenant that uploaded its own hold music (`fsctl audio upload DOMAIN FILE hold-music`)."""
    doc = {
        "domain": "moh.e2e.test",
        "name": "MOH E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {"extension": "101", "name": "A", "password": "E2e-moh-101-pass"},
            {"extension": "102", "name": "B", "password": "E2e-moh-102-pass"},
        ],
    }
    e2e.kumo.apply(doc)
    song = tone_wav(e2e.workdir / "our-song.wav", seconds=3.0)
    e2e.kumo.fsctl("audio", "upload", doc["domain"], str(song), "hold-music")
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


@pytest.mark.parametrize("own", [False, True], ids=["platform-music", "tenant-upload"])
def test_hold_plays_music_to_the_other_party_and_resume_restores_the_call(e2e, own_music, own: bool) -> None:
    domain = own_music.domain if own else ACME.domain
    # The platform's moh stream (vars.xml hold_music), or the tenant's upload in its audio folder.
    expected = str(e2e.workdir / "audio" / domain) if own else "local_stream://moh"
    callee = e2e.registered_phone(domain, "102")
    mark = e2e.events.mark()
    answering = callee.answer()
    caller = e2e.phone(domain, "101")
    keys = caller._keys(to_user="102")
    auth = (caller.extension, caller.password, caller.domain)
    call = e2e.sipp.start("uac_hold", e2e.registrar, free_udp_port(), keys, auth, duration_ms=800)
    bridge = e2e.events.wait_for(event_is("CHANNEL_BRIDGE", Caller_Destination_Number="102"), since=mark)
    held_leg, other_leg = bridge["Unique-ID"], bridge["Other-Leg-Unique-ID"]

    e2e.events.wait_for(event_is("CHANNEL_HOLD", Unique_ID=held_leg), since=mark, what="hold")
    # The other party hears the hold music.
    music = e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_EXECUTE"
            and e.get("Unique-ID") == other_leg
            and expected in e.get("Application-Data", "")
        ),
        since=mark,
        what="music on hold to 102",
    )
    assert music["Application"] in ("playback", "endless_playback")
    e2e.events.wait_for(event_is("CHANNEL_UNHOLD", Unique_ID=held_leg), since=mark, what="resume")
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    # Resumed, the call went on until the caller hung up normally (both legs NORMAL_CLEARING).
    for uuid in (held_leg, other_leg):
        done = e2e.events.wait_for(event_is("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid), since=mark)
        assert done["Hangup-Cause"] == "NORMAL_CLEARING"
