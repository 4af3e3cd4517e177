"""Do not disturb through the switch: *78 from the phone is stored, the next call is not offered to
that phone and follows its busy forward; *79 and the next call rings the phone again. A busy-lamp
key subscribed to `dnd+<ext>` is told the state when it subscribes and notified of each change."""

from __future__ import annotations

import pytest

from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import TENANTS, Tenant


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": "dnd.e2e.test",
        "name": "DND E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": "Desk 101",
                "password": "E2e-dnd-101-pass",
                "forward": {"busy": {"user": "102"}},
            },
            {"extension": "102", "name": "Colleague 102", "password": "E2e-dnd-102-pass"},
            {"extension": "103", "name": "Caller 103", "password": "E2e-dnd-103-pass"},
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _stored(e2e, domain: str) -> bool:
    rows = e2e.kumo.rows(
        "SELECT u.do_not_disturb FROM users u JOIN tenants t ON t.id = u.tenant_id "
        "WHERE t.domain = :d AND u.extension = '101'",
        d=domain,
    )
    return bool(rows[0].do_not_disturb)


def _feature_code(e2e, tenant: Tenant, code: str, prompt: str) -> None:
    """101 dials `code`: the switch answers, plays the confirmation and hangs up."""
    mark = e2e.events.mark()
    run = e2e.phone(tenant.domain, "101").call_until_hung_up(code, timeout_s=30)
    assert run.wait().ok, run.responses()
    # event_is spells "_" as "-" in header names; the feature code's own headers keep "_".
    fired = e2e.events.wait_for(
        lambda e: event_is("CUSTOM", "kumo::dnd")(e) and e.get("kumo_extension") == "101",
        since=mark,
        what=f"{code} event",
    )
    assert fired["kumo_domain"] == tenant.domain
    played = e2e.events.wait_for(
        event_is("PLAYBACK_START", Unique_ID=fired["Unique-ID"]), since=mark, what="confirmation"
    )
    assert played.get("Playback-File-Path", "").endswith(prompt)


def _subscribe_lamp(e2e, tenant: Tenant):
    keys = {"user": "101", "domain": tenant.domain, "to_user": "dnd+101", "to_domain": tenant.domain}
    auth = ("101", tenant.password("101"), tenant.domain)
    return e2e.sipp.start("subscribe_lamp", e2e.registrar, free_udp_port(), keys, auth, timeout_s=40)


def _lamp_now(e2e, tenant: Tenant) -> str:
    """The first NOTIFY a key subscribing to dnd+101 gets (subscribe.xml: 202, then one NOTIFY)."""
    keys = {"user": "102", "domain": tenant.domain, "to_user": "dnd+101", "to_domain": tenant.domain}
    auth = ("102", tenant.password("102"), tenant.domain)
    run = e2e.sipp.start("subscribe", e2e.registrar, free_udp_port(), keys, auth).wait()
    assert run.ok and run.final_response("SUBSCRIBE") in (200, 202), run.responses("SUBSCRIBE")
    return run.requests("NOTIFY")[0]


def test_star78_diverts_to_the_busy_forward_and_star79_rings_again(e2e, office: Tenant) -> None:
    desk = e2e.registered_phone(office.domain, "101")
    colleague = e2e.registered_phone(office.domain, "102")
    assert not _stored(e2e, office.domain)

    lamp = _subscribe_lamp(e2e, office)
    # kumo answers the switch's probe with the stored state: off, the lamp dark.
    e2e.wait_until(lambda: lamp.requests("NOTIFY"), timeout=20, what="the lamp's first NOTIFY")
    first = lamp.requests("NOTIFY")[0]
    assert "dialog-info" in first and "confirmed" not in first
    _feature_code(e2e, office, "*78", "dnd_on.wav")
    e2e.wait_until(lambda: _stored(e2e, office.domain), what="do not disturb stored")
    assert lamp.wait().ok, lamp.errors()
    assert "confirmed" in lamp.requests("NOTIFY")[-1]  # lit by the feature code
    # A key subscribing now is told it is on.
    assert "confirmed" in _lamp_now(e2e, office)

    # The next call: 101's phone is not offered it; the busy forward rings 102, which answers.
    idle = desk.answer(timeout_s=15)
    answering = colleague.answer(ring_ms=300)
    call = e2e.phone(office.domain, "103").call("101", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    assert answering.requests("INVITE")[0].startswith(f"INVITE sip:102@127.0.0.1:{colleague.port}")
    idle.proc.kill()
    assert idle.requests("INVITE") == []

    _feature_code(e2e, office, "*79", "dnd_off.wav")
    e2e.wait_until(lambda: not _stored(e2e, office.domain), what="do not disturb cleared")
    assert "confirmed" not in _lamp_now(e2e, office)
    ringing = desk.answer(ring_ms=300)
    call = e2e.phone(office.domain, "103").call("101", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert ringing.wait().ok
    assert ringing.requests("INVITE")[0].startswith(f"INVITE sip:101@127.0.0.1:{desk.port}")
