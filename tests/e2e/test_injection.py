"""`${...}` in display and company names never makes the switch run anything.

Each name carries an api call that would create a file if the switch ever expanded it (through
the directory, a dialplan `set`, a bridge's caller ID, a SIP header it copies into a variable,
valet_parking's or mod_voicemail's own variables and events). Every call path is run (calls in and
out, park and retrieve, leaving a voicemail with its e-mail and message-waiting); the files must
never appear.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import TENANTS, Tenant


def _forms(marker: Path) -> list[str]:
    return [
        f"${{system(touch {marker}-a)}}",
        f"$${{system touch {marker}-b}}",
        f"${{bg_system(touch {marker}-c)}}",
        f"x${{expr(1+1)}}${{system(touch {marker}-d)}}",
    ]


@pytest.fixture(scope="module")
def evil(e2e) -> tuple[Tenant, Path]:
    marker = e2e.workdir / "pwned"
    forms = _forms(marker)
    doc = {
        "domain": "evil.e2e.test",
        "name": forms[0],
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": forms[1],
                "password": "E2e-evil-101-pass",
                "caller_id": "0366660000",
            },
            {"extension": "102", "name": forms[2], "password": "E2e-evil-102-pass", "did": "0366660002"},
            {
                "extension": "103",
                "name": forms[3],
                "password": "E2e-evil-103-pass",
                "voicemail": {
                    "enabled": True,
                    "pin": "8642",
                    "email": "box103@evil.e2e.test",
                    "attach_audio": True,
                },
                "forward": {"no_answer": {"voicemail": "103"}, "no_answer_seconds": 5},
            },
        ],
        "park": {"slots": "700-719"},
        "numbers": [{"number": "0366660000", "destination": {"ring_group": "all"}}],
        "ring_groups": [{"name": "all", "members": ["101", "102"], "ring_seconds": 10}],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant  # so e2e.phone() finds the passwords
    return tenant, marker


def _planted(marker: Path) -> list[Path]:
    return sorted(marker.parent.glob(marker.name + "*"))


def test_names_with_api_calls_never_run_on_any_call_path(e2e, evil) -> None:
    tenant, marker = evil
    forms = _forms(marker)
    first = e2e.registered_phone(tenant.domain, "101", display=forms[3])
    second = e2e.registered_phone(tenant.domain, "102", display=forms[0])

    # extension to extension, the caller's own SIP display name carrying a call too
    answering = second.answer()
    call = first.call("102", talk_ms=300, display=forms[3])
    assert call.wait().ok, call.responses()
    assert answering.wait().ok

    # out through the carrier with the user's and company's names
    carrier = e2e.carrier().answer()
    call = first.call("0612345678", talk_ms=300, display=forms[1])
    assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    # kumo strips such text before it reaches the switch: the carrier sees none.
    invite = carrier.requests("INVITE")[0]
    assert "${" not in invite and "0366660000" in invite.replace("+81", "0")

    # in from the carrier to the group and to a DID, the carrier's display name carrying a call
    answering = second.answer()
    ringing = first.answer(scenario="uas_noanswer")
    call = e2e.carrier_call("0366660000", caller="0355550000", talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok and ringing.wait().ok

    answering = second.answer()
    keys = {"user": "0355550000", "to_user": "0366660002", "display": forms[2]}
    run = e2e.sipp.start("carrier_uac", e2e.carrier_profile, free_udp_port(), keys, duration_ms=300)
    assert run.wait().ok, run.responses()
    assert answering.wait().ok

    assert _planted(marker) == []
    # The switch itself refuses `system`: kumo's vars.xml turns the api off.
    assert e2e.switch.api(f"system touch {marker}-direct").startswith("-ERR")
    assert _planted(marker) == []


def _valet(action: str, uuid: str | None = None):
    def check(e) -> bool:
        return (
            e.get("Event-Subclass") == "valet_parking::info"
            and e.get("Action") == action
            and (uuid is None or e.get("Unique-ID") == uuid)
        )

    return check


def _parked(e2e, domain: str, slot: str) -> list:
    return e2e.kumo.rows(
        "SELECT p.uuid, p.caller_number FROM parked_calls p JOIN tenants t ON t.id = p.tenant_id "
        "WHERE t.domain = :d AND p.slot = :s",
        d=domain,
        s=slot,
    )


def test_names_with_api_calls_never_run_when_parked_and_retrieved(e2e, evil) -> None:
    tenant, marker = evil
    forms = _forms(marker)
    mark = e2e.events.mark()
    parked = e2e.phone(tenant.domain, "101", display=forms[3]).call_until_hung_up("707")
    hold = e2e.events.wait_for(_valet("hold"), since=mark, what="valet hold")
    assert hold["Valet-Extension"] == "707"
    # The caller's display name reached the switch and valet_parking (sofia turns `${` into `%{`).
    assert f"system(touch {marker}-d)" in hold["Caller-Caller-ID-Name"]
    rows = e2e.wait_until(lambda: _parked(e2e, tenant.domain, "707"), what="parked_calls row")
    assert rows[0].uuid == hold["Unique-ID"] and rows[0].caller_number == "101"

    retrieve = e2e.phone(tenant.domain, "102", display=forms[0]).call("707", talk_ms=800)
    assert retrieve.wait().ok, retrieve.responses()
    e2e.events.wait_for(_valet("bridge", hold["Unique-ID"]), since=mark, what="valet bridge")
    assert parked.wait().ok, parked.responses()
    e2e.wait_until(lambda: not _parked(e2e, tenant.domain, "707"), what="parked_calls row gone")
    assert _planted(marker) == []


def test_names_with_api_calls_never_run_in_voicemail_its_mail_and_lamp(e2e, evil) -> None:
    tenant, marker = evil
    forms = _forms(marker)
    box = e2e.registered_phone(tenant.domain, "103", display=forms[1])
    mark = e2e.events.mark()
    ringing = box.answer(scenario="uas_noanswer", timeout_s=20)
    caller = e2e.phone(tenant.domain, "101", display=forms[3]).call_until_hung_up("103", timeout_s=90)
    assert ringing.wait().ok
    started = e2e.events.wait_for(
        event_is("CHANNEL_EXECUTE", Application="voicemail"), since=mark, what="voicemail starts"
    )
    uuid = started["Unique-ID"]
    e2e.events.wait_for(event_is("RECORD_START", Unique_ID=uuid), since=mark, timeout=60, what="recording")
    lamp = box.answer(scenario="uas_noanswer", timeout_s=30)
    # The caller speaks for a few seconds (over mod_voicemail's 3 s minimum): a duration, not an event.
    time.sleep(4)
    e2e.switch.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    assert caller.wait().ok, caller.responses()

    e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "MESSAGE_WAITING"
            and e.get("MWI-Messages-Waiting") == "yes"
            and e.get("MWI-Message-Account", "").endswith(f"103@{tenant.domain}")
        ),
        since=mark,
        timeout=20,
        what="MWI",
    )
    e2e.wait_until(
        lambda: any("Messages-Waiting: yes" in n for n in lamp.requests("NOTIFY")),
        timeout=15,
        what="MWI NOTIFY",
    )
    lamp.proc.kill()
    lamp.wait()
    mails = e2e.wait_until(
        lambda: [m for m in e2e.smtp.messages if "box103@evil.e2e.test" in m.recipients],
        timeout=20,
        what="e-mail",
    )
    audio = [part for part in mails[0].message.iter_attachments() if part.get_content_type() == "audio/wav"]
    assert len(audio) == 1 and len(audio[0].get_content()) > 8000
    # The names went all the way: through mod_voicemail's event into kumo's index, and into the
    # e-mail as plain text (the company's and the box's names).
    rows = e2e.kumo.rows(
        "SELECT m.caller_name FROM voicemail_messages m JOIN tenants t ON t.id = m.tenant_id WHERE t.domain = :d",
        d=tenant.domain,
    )
    assert f"system(touch {marker}-d)" in rows[0].caller_name
    assert forms[0] in mails[0].message.get_body().get_content()
    assert _planted(marker) == []
