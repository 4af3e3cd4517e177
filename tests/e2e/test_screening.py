"""Caller screening through the real switch: a carrier call with a withheld number to a number that
refuses such calls hears the request to show the number and is ended, while another
number rings; a blocked caller is refused and kept in the call history; an allowed caller rings."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from e2e.esl import event_is
from e2e.tenants import TENANTS, Tenant

REFUSING = "0377770200"  # refuses withheld callers
OPEN = "0377770201"  # no setting: a withheld caller rings
BLOCKED_CALLER = "0355550001"


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": "screening.e2e.test",
        "name": "Screening E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [{"extension": "101", "name": "Desk 101", "password": "E2e-screening-101-pass"}],
        "numbers": [
            {"number": REFUSING, "destination": {"user": "101"}},
            {"number": OPEN, "destination": {"user": "101"}},
        ],
        "screening": {
            "anonymous": {"numbers": {REFUSING: ["withheld"]}},
            "blocklist": [{"caller": BLOCKED_CALLER, "action": "reject"}, {"caller": "0355559*"}],
        },
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _screened(e2e, uuid: str) -> list:
    return e2e.kumo.rows("SELECT screened, hangup_cause FROM cdrs WHERE uuid = :u", u=uuid)


def test_a_withheld_caller_hears_the_announcement_and_the_call_ends(e2e, office: Tenant) -> None:
    prompt = e2e.switch.sounds_dir / "ja" / "jp" / "kumo" / "8000" / "screening_withheld.wav"
    assert _seconds(prompt) > 1.0
    mark = e2e.events.mark()
    # As sofia sees an NGN carrier's withheld caller: From "Anonymous" <sip:anonymous@...>.
    run = e2e.carrier_call(REFUSING, caller="anonymous", display="Anonymous", until_hung_up=True)
    assert run.wait(30).ok, run.responses()  # answered, then the switch hung up
    created = e2e.events.wait_for(
        event_is("CHANNEL_CREATE", Caller_Destination_Number=REFUSING), since=mark, what="the call"
    )
    uuid = created["Unique-ID"]
    played = e2e.events.wait_for(event_is("PLAYBACK_STOP", Unique_ID=uuid), since=mark, timeout=20)
    assert played.get("Playback-File-Path", "").endswith("screening_withheld.wav")
    assert played.get("Playback-Status") == "done"  # heard to its end
    hangup = e2e.events.wait_for(event_is("CHANNEL_HANGUP", Unique_ID=uuid), since=mark)
    assert hangup.get("Hangup-Cause") == "CALL_REJECTED"
    assert not e2e.events.matching(event_is("CHANNEL_BRIDGE", Unique_ID=uuid), since=mark)
    rows = e2e.wait_until(lambda: _screened(e2e, uuid), what="the call record")
    assert rows[0].screened == "withheld"


def test_a_withheld_caller_rings_a_number_without_the_setting(e2e, office: Tenant) -> None:
    phone = e2e.registered_phone(office.domain, "101")
    answering = phone.answer()
    call = e2e.carrier_call(OPEN, caller="anonymous", display="Anonymous", talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok


def test_a_blocked_caller_is_refused_and_shows_in_the_history(e2e, office: Tenant) -> None:
    mark = e2e.events.mark()
    run = e2e.carrier_call(OPEN, caller="+81" + BLOCKED_CALLER[1:], refused=True)
    assert run.ok, run.responses()
    assert run.final_response() == 603
    hangup = e2e.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number=OPEN), since=mark, what="refusal"
    )
    assert not e2e.events.matching(event_is("PLAYBACK_START", Unique_ID=hangup["Unique-ID"]), since=mark)
    rows = e2e.wait_until(lambda: _screened(e2e, hangup["Unique-ID"]), what="the call record")
    assert (rows[0].screened, rows[0].hangup_cause) == ("blocked", "CALL_REJECTED")
    history = e2e.kumo.rows(
        "SELECT c.uuid FROM cdrs c JOIN tenants t ON t.id = c.tenant_id"
        " WHERE t.domain = :d AND c.screened = 'blocked'",
        d=office.domain,
    )
    assert hangup["Unique-ID"] in [r.uuid for r in history]


def test_an_allowed_caller_rings(e2e, office: Tenant) -> None:
    phone = e2e.registered_phone(office.domain, "101")
    answering = phone.answer()
    call = e2e.carrier_call(REFUSING, caller="0355550002", talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
