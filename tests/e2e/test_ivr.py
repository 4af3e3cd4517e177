"""An IVR menu (greeting uploaded with `fsctl audio upload`): a key reaches its
destination, no key reaches the timeout destination."""

from __future__ import annotations

import pytest
from kumo_support import tone_wav

from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import TENANTS, Tenant

NUMBER = "0388880000"


@pytest.fixture(scope="module")
def shop(e2e) -> Tenant:
    doc = {
        "domain": "ivr.e2e.test",
        "name": "IVR E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 4,
        "users": [
            {"extension": "101", "name": "Desk", "password": "E2e-ivr-101-pass"},
            {"extension": "102", "name": "Sales", "password": "E2e-ivr-102-pass"},
        ],
    }
    e2e.kumo.apply(doc)
    e2e.kumo.fsctl(
        "audio", "upload", doc["domain"], str(tone_wav(e2e.workdir / "menu-upload.wav", seconds=1.0)), "menu"
    )
    doc["numbers"] = [{"number": NUMBER, "destination": {"ivr": "main"}}]
    doc["ivr_menus"] = [
        {
            "name": "main",
            "greeting": "menu.wav",
            "timeout_seconds": 3,
            "max_attempts": 1,
            "options": {"1": {"user": "102"}},
            "timeout_destination": {"user": "101"},
        }
    ]
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def test_a_key_reaches_its_destination(e2e, shop: Tenant) -> None:
    sales = e2e.registered_phone(shop.domain, "102")
    mark = e2e.events.mark()
    answering = sales.answer(timeout_s=40)
    keys = {"user": "0355551111", "to_user": NUMBER, "display": "caller"}
    call = e2e.sipp.start("carrier_uac_dtmf1", e2e.carrier_profile, free_udp_port(), keys, duration_ms=1500)
    assert call.wait(40).ok, call.responses()
    assert answering.wait().ok
    played = e2e.events.wait_for(event_is("PLAYBACK_START"), since=mark, what="greeting")
    assert "ivr.e2e.test" in played["Playback-File-Path"] and "menu" in played["Playback-File-Path"]
    e2e.events.wait_for(event_is("DTMF", DTMF_Digit="1"), since=mark, what="the key")


def test_no_key_reaches_the_timeout_destination(e2e, shop: Tenant) -> None:
    desk = e2e.registered_phone(shop.domain, "101")
    answering = desk.answer(timeout_s=40)
    call = e2e.carrier_call(NUMBER, caller="0355552222", talk_ms=9000)
    assert call.wait(40).ok, call.responses()
    assert answering.wait().ok
