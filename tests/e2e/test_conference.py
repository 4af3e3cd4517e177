"""Conference rooms and the phonebook through the real switch: two phones dial room 800 with its PIN
and meet in the tenant's conference (mod_conference's add-member events), a wrong PIN is asked again
and never joins, another tenant's room 800 is another conference; a carrier call from a phonebook
number rings the phone with the entry's name as the INVITE's From display name."""

from __future__ import annotations

import pytest

from e2e.esl import event_is
from e2e.tenants import TENANTS, Tenant

ROOM, PIN = "800", "2580"
NUMBER = "0377770300"
CALLER = "0355557777"
NAME = "株式会社アクメ商事"
ADD_MEMBER = "conference::maintenance"


def _user(extension: str) -> dict:
    return {"extension": extension, "name": f"Desk {extension}", "password": f"E2e-conf-{extension}-pass"}


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": "conf.e2e.test",
        "name": "Conference E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [_user("101"), _user("102"), _user("103")],
        "numbers": [{"number": NUMBER, "destination": {"user": "101"}}],
        "conference_rooms": [{"number": ROOM, "name": "大会議室", "pin": PIN, "max_members": 5}],
        "phonebook": [{"name": NAME, "numbers": ["03-5555-7777"], "company": "アクメ商事"}],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _joined(e2e, mark: int, conference: str) -> list[dict]:
    return e2e.events.matching(
        event_is("CUSTOM", ADD_MEMBER, Action="add-member", Conference_Name=conference), since=mark
    )


def test_two_phones_with_the_pin_meet_in_the_room(e2e, office: Tenant) -> None:
    mark = e2e.events.mark()
    first = e2e.phone(office.domain, "101").call_pressing(ROOM, PIN, first_ms=1500, after_ms=9000)
    e2e.wait_until(lambda: _joined(e2e, mark, f"{ROOM}-{office.domain}"), timeout=30, what="101 joins")
    second = e2e.phone(office.domain, "102").call_pressing(ROOM, PIN, first_ms=1500, after_ms=2000)
    both = e2e.wait_until(
        lambda: [e for e in _joined(e2e, mark, f"{ROOM}-{office.domain}") if e.get("Conference-Size") == "2"],
        timeout=30,
        what="102 joins 101 in the room",
    )
    assert both[0]["Caller-Destination-Number"] == ROOM
    # The PIN was asked with kumo's prompt in the tenant's language.
    asked = e2e.events.wait_for(event_is("PLAYBACK_START"), since=mark, what="the PIN prompt")
    assert asked["Playback-File-Path"].endswith("ja/jp/kumo/conference_pin.wav")
    assert second.wait(40).ok, second.responses()
    assert first.wait(40).ok, first.responses()


def test_a_wrong_pin_is_asked_again_and_never_joins(e2e, office: Tenant) -> None:
    mark = e2e.events.mark()
    caller = e2e.phone(office.domain, "103").call_pressing(ROOM, "1111", first_ms=1500, after_ms=5000)
    answered = e2e.events.wait_for(
        event_is("CHANNEL_ANSWER", Caller_Destination_Number=ROOM), since=mark, what="the switch answers"
    )
    uuid = answered["Unique-ID"]
    e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "PLAYBACK_START"
            and e.get("Unique-ID") == uuid
            and e.get("Playback-File-Path", "").endswith("kumo/conference_bad_pin.wav")
        ),
        since=mark,
        timeout=20,
        what="the wrong PIN is said",
    )
    asked = [
        e
        for e in e2e.events.matching(event_is("PLAYBACK_START", Unique_ID=uuid), since=mark)
        if e.get("Playback-File-Path", "").endswith("kumo/conference_pin.wav")
    ]
    e2e.wait_until(
        lambda: (
            len(
                [
                    e
                    for e in e2e.events.matching(event_is("PLAYBACK_START", Unique_ID=uuid), since=mark)
                    if e.get("Playback-File-Path", "").endswith("kumo/conference_pin.wav")
                ]
            )
            >= 2
        ),
        timeout=20,
        what="the PIN asked again",
    )
    assert asked
    assert caller.wait(40).ok, caller.responses()
    assert not e2e.events.matching(
        event_is("CUSTOM", ADD_MEMBER, Action="add-member", Unique_ID=uuid), since=mark
    )


def test_another_tenants_room_800_is_another_conference(e2e, office: Tenant) -> None:
    from e2e.tenants import BETA

    doc = {**BETA.doc, "conference_rooms": [{"number": ROOM}]}
    e2e.kumo.apply(doc)
    mark = e2e.events.mark()
    call = e2e.phone(BETA.domain, "101").call(ROOM, talk_ms=2000)
    joined = e2e.wait_until(
        lambda: _joined(e2e, mark, f"{ROOM}-{BETA.domain}"), timeout=30, what="beta joins"
    )
    assert joined[0]["Conference-Size"] == "1"  # alone: acme's callers are elsewhere
    assert call.wait(40).ok, call.responses()
    e2e.kumo.apply(BETA.doc)  # back as the other tests know it


def test_a_carrier_call_from_a_phonebook_number_shows_its_name(e2e, office: Tenant) -> None:
    phone = e2e.registered_phone(office.domain, "101")
    answering = phone.answer()
    call = e2e.carrier_call(NUMBER, caller=CALLER, talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    invite = answering.requests("INVITE")[0]
    from_header = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert f'"{NAME}"' in from_header and CALLER in from_header, from_header
