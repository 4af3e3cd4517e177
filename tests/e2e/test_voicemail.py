"""Voicemail on no answer: the message is stored (file and kumo's index) and the
phone's message-waiting lamp is lit by a NOTIFY."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from e2e.esl import event_is
from e2e.tenants import TENANTS, Tenant


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": "vm.e2e.test",
        "name": "VM E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": "Box 101",
                "password": "E2e-vm-101-pass",
                "ring_seconds": 5,
                "voicemail": {
                    "enabled": True,
                    "pin": "8642",
                    "email": "box101@vm.e2e.test",
                    "attach_audio": True,
                },
                "forward": {
                    "no_answer": {"voicemail": "101"},
                    "no_answer_seconds": 5,
                    "busy": {"voicemail": "101"},
                },
            },
            {"extension": "102", "name": "Caller 102", "password": "E2e-vm-102-pass"},
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _messages(e2e, domain: str) -> list:
    return e2e.kumo.rows(
        "SELECT m.mailbox, m.caller_number, m.file_path, m.duration_seconds FROM voicemail_messages m "
        "JOIN tenants t ON t.id = m.tenant_id WHERE t.domain = :d",
        d=domain,
    )


def test_no_answer_leaves_a_message_and_lights_the_lamp(e2e, office: Tenant) -> None:
    box = e2e.registered_phone(office.domain, "101")
    mark = e2e.events.mark()
    ringing = box.answer(scenario="uas_noanswer", timeout_s=20)
    caller = e2e.phone(office.domain, "102").call_until_hung_up("101", timeout_s=90)
    assert ringing.wait().ok  # rang, then the switch gave up on the phone
    started = e2e.events.wait_for(
        event_is("CHANNEL_EXECUTE", Application="voicemail"), since=mark, what="voicemail starts"
    )
    uuid = started["Unique-ID"]
    # The greeting and the beep play, then the recording starts (RECORD_START).
    e2e.events.wait_for(event_is("RECORD_START", Unique_ID=uuid), since=mark, timeout=60, what="recording")
    lamp = box.answer(scenario="uas_noanswer", timeout_s=30)  # the phone, idle, gets the NOTIFY
    # The caller speaks (its tone) for a few seconds: a duration, not an event. Then the leg ends as
    # when the caller hangs up (mod_voicemail keeps a message cut by hang-up).
    time.sleep(4)
    e2e.switch.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    assert caller.wait().ok, caller.responses()

    waiting = e2e.events.wait_for(
        event_is("MESSAGE_WAITING", MWI_Messages_Waiting="yes"), since=mark, timeout=20, what="MWI"
    )
    assert waiting["MWI-Message-Account"].endswith(f"101@{office.domain}")
    e2e.wait_until(
        lambda: any("Messages-Waiting: yes" in n for n in lamp.requests("NOTIFY")),
        timeout=15,
        what="MWI NOTIFY",
    )
    lamp.proc.kill()
    lamp.wait()

    rows = e2e.wait_until(lambda: _messages(e2e, office.domain), what="kumo's voicemail index")
    assert rows[0].mailbox == "101" and rows[0].caller_number == "102"
    recorded = Path(rows[0].file_path)
    assert recorded.is_file() and recorded.stat().st_size > 8000  # > 0.5 s of 8 kHz 16-bit audio

    # kumo mails the message with its audio to the box's address.
    mails = e2e.wait_until(
        lambda: [m for m in e2e.smtp.messages if "box101@vm.e2e.test" in m.recipients],
        timeout=20,
        what="e-mail",
    )
    audio = [part for part in mails[0].message.iter_attachments() if part.get_content_type() == "audio/wav"]
    assert len(audio) == 1 and audio[0].get_content() == recorded.read_bytes()


def test_busy_goes_to_voicemail(e2e, office: Tenant) -> None:
    box = e2e.registered_phone(office.domain, "101")
    mark = e2e.events.mark()
    busy = box.answer(scenario="uas_busy")
    caller = e2e.phone(office.domain, "102").call_until_hung_up("101", timeout_s=60)
    assert busy.wait().ok
    started = e2e.events.wait_for(
        event_is("CHANNEL_EXECUTE", Application="voicemail"), since=mark, what="voicemail after busy"
    )
    assert started["Application-Data"].split()[-1].startswith("101")
    # The greeting is playing to the caller: enough, end the call from the switch.
    e2e.events.wait_for(
        event_is("PLAYBACK_START", Unique_ID=started["Unique-ID"]), since=mark, what="greeting"
    )
    e2e.switch.api(f"uuid_kill {started['Unique-ID']} NORMAL_CLEARING")
    assert caller.wait().ok, caller.responses()


def test_star98_logs_in_with_the_pin_after_the_prompt(e2e, office: Tenant) -> None:
    mark = e2e.events.mark()
    # The PIN is pressed while/after the "enter your password" prompt plays; mod_voicemail takes the
    # digits when its digit timeout ends (no # in sip-tester's captured key presses).
    call = e2e.phone(office.domain, "101").call_pressing("*98", "8642", first_ms=2500, after_ms=12000)
    prompt = e2e.events.wait_for(
        lambda e: e.get("Event-Name") == "PLAYBACK_START" and "101@" in e.get("Channel-Name", ""),
        since=mark,
        what="password prompt",
    )
    login = e2e.events.wait_for(
        event_is("CUSTOM", "vm::maintenance", VM_Action="authentication"),
        since=mark,
        timeout=30,
        what="login",
    )
    assert login["VM-Auth-Result"] == "success"
    assert login["VM-User"] == "101" and login["VM-Domain"] == office.domain
    assert login["Unique-ID"] == prompt["Unique-ID"]
    assert call.wait().ok, call.responses()
