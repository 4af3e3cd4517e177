"""The day/night override decides the very next call through the real switch: set from a registered
phone with *21 (臨時休業) and ended with *23, then set and ended through the panel's API."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.esl import event_is
from e2e.panel_api import running_panel
from e2e.tenants import TENANTS, Tenant

NUMBER = "0377770100"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": "override.e2e.test",
        "name": "Override E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": "Desk 101",
                "password": "E2e-override-101-pass",
                "voicemail": {"enabled": True, "pin": "2468"},
            },
            {"extension": "102", "name": "Manager 102", "password": "E2e-override-102-pass"},
        ],
        "numbers": [{"number": NUMBER, "destination": {"schedule": "hours"}}],
        "ring_groups": [{"name": "desk", "members": ["101"], "ring_seconds": 10}],
        # Open around the clock (holidays too): only the override can close it.
        "schedules": [
            {
                "name": "hours",
                "open": [{"days": ALL_DAYS, "from": "00:00", "to": "24:00"}],
                "holidays_closed": False,
                "open_destination": {"ring_group": "desk"},
                "closed_destination": {"voicemail": "101"},
            }
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _override(e2e, tenant: Tenant) -> tuple[str | None, object]:
    rows = e2e.kumo.rows(
        "SELECT s.override_mode, s.override_until FROM schedules s JOIN tenants t ON t.id = s.tenant_id "
        "WHERE t.domain = :d AND s.name = 'hours'",
        d=tenant.domain,
    )
    return rows[0].override_mode, rows[0].override_until


def _call_open(e2e, tenant: Tenant) -> None:
    phone = e2e.registered_phone(tenant.domain, "101")
    answering = phone.answer()
    call = e2e.carrier_call(NUMBER, talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok  # the ring group's phone rang and answered


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _call_closed(e2e) -> None:
    announcement = _seconds(e2e.switch.sounds_dir / "ja" / "jp" / "kumo" / "8000" / "after_hours.wav")
    mark = e2e.events.mark()
    call = e2e.carrier_call(NUMBER, talk_ms=int(announcement * 1000) + 2500)
    assert call.wait(60).ok, call.responses()  # answered by the switch itself
    answered = e2e.events.wait_for(
        event_is("CHANNEL_ANSWER", Caller_Destination_Number=NUMBER), since=mark, what="switch answers"
    )
    uuid = answered["Unique-ID"]
    played = e2e.events.wait_for(event_is("PLAYBACK_START", Unique_ID=uuid), since=mark, what="announcement")
    assert played.get("Playback-File-Path", "").endswith("after_hours.wav")
    e2e.events.wait_for(
        event_is("CHANNEL_EXECUTE", Unique_ID=uuid, Application="voicemail"),
        since=mark,
        timeout=20,
        what="voicemail (the closed destination)",
    )


def _dial_code(e2e, tenant: Tenant, code: str, subclass_mode: str) -> None:
    """A registered phone dials a code: the switch answers, fires the event, plays the tone, hangs up."""
    e2e.registered_phone(tenant.domain, "102")
    mark = e2e.events.mark()
    call = e2e.phone(tenant.domain, "102").call_until_hung_up(code)
    assert call.wait(30).ok, call.responses()
    fired = e2e.events.wait_for(
        event_is("CUSTOM", "kumo::schedule_override", Caller_Destination_Number=code),
        since=mark,
        what=f"{code}'s event",
    )
    assert (fired.get("kumo_schedule"), fired.get("kumo_override")) == ("hours", subclass_mode)
    e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_EXECUTE"
            and e.get("Application") == "playback"
            and e.get("Application-Data", "").startswith("tone_stream://")
            and e.get("Caller-Destination-Number") == code
        ),
        since=mark,
        what="the confirmation tone",
    )


def test_a_phone_closes_the_schedule_with_a_code_and_opens_it_again(e2e, office: Tenant) -> None:
    _call_open(e2e, office)
    _dial_code(e2e, office, "*21", "closed")
    # The service writes it from the event (and bumps the version): until the end of the day,
    # since this schedule never closes by itself.
    mode, until = e2e.wait_until(lambda: _override(e2e, office)[0] == "closed" and _override(e2e, office))
    assert until is not None
    _call_closed(e2e)
    _dial_code(e2e, office, "*23", "none")
    e2e.wait_until(lambda: _override(e2e, office)[0] is None, what="override ended")
    _call_open(e2e, office)


def test_another_tenants_phone_cannot_close_it(e2e, office: Tenant) -> None:
    """acme's 101 dialling *21 closes acme's schedule 1 at most, never this tenant's."""
    from e2e.tenants import ACME

    call = e2e.phone(ACME.domain, "101").call_refused("*21")  # acme has no schedule: refused
    assert call.final_response() in (403, 404, 480, 486, 503, 603), call.responses()
    assert _override(e2e, office) == (None, None)


@pytest.fixture
def api(e2e, office: Tenant) -> Iterator[tuple[str, str]]:
    """`fsctl panel` on a free port, and an API token of the tenant (as its admin would make one)."""
    with running_panel(e2e, office.domain, "office") as panel_and_token:
        yield panel_and_token


def _request(base: str, token: str, method: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/schedules/hours/override",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_the_api_closes_it_until_a_time_and_ends_it(e2e, office: Tenant, api) -> None:
    base, token = api
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    saved = _request(base, token, "PUT", {"mode": "closed", "until": until.isoformat()})
    assert saved["override"]["mode"] == "closed"
    _call_closed(e2e)  # the very next call: no wait, the save committed before the answer
    assert "override" not in _request(base, token, "DELETE")
    _call_open(e2e, office)
