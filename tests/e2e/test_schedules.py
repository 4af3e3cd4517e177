"""A schedule switched by `fsctl apply` between two calls decides the very next call."""

from __future__ import annotations

import copy
import datetime as dt
import json
import urllib.error
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from e2e.esl import event_is
from e2e.panel_api import running_panel
from e2e.tenants import TENANTS, Tenant

NUMBER = "0377770000"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(scope="module")
def shop(e2e) -> Tenant:
    doc = {
        "domain": "shop.e2e.test",
        "name": "Shop E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": "Shop 101",
                "password": "E2e-shop-101-pass",
                "voicemail": {"enabled": True, "pin": "2468"},
            }
        ],
        "numbers": [{"number": NUMBER, "destination": {"schedule": "hours"}}],
        "ring_groups": [{"name": "desk", "members": ["101"], "ring_seconds": 10}],
        "schedules": [_hours(closed_today=False)],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _hours(closed_today: bool) -> dict:
    schedule = {
        "name": "hours",
        "open": [{"days": ALL_DAYS, "from": "00:00", "to": "23:59"}],
        "open_destination": {"ring_group": "desk"},
        "closed_destination": {"voicemail": "101"},
    }
    if closed_today:
        today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
        schedule["closures"] = [{"from": today, "to": today, "name": "e2e closure"}]
    return schedule


def _apply(e2e, tenant: Tenant, closed_today: bool) -> None:
    doc = copy.deepcopy(tenant.doc)
    doc["schedules"] = [_hours(closed_today)]
    e2e.kumo.apply(doc)


def _call_open(e2e, tenant: Tenant) -> None:
    phone = e2e.registered_phone(tenant.domain, "101")
    answering = phone.answer()
    call = e2e.carrier_call(NUMBER, talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _call_closed(e2e) -> None:
    # The caller stays on through the whole announcement (kumo's generated prompt) into voicemail.
    announcement = _seconds(e2e.switch.sounds_dir / "ja" / "jp" / "kumo" / "8000" / "after_hours.wav")
    mark = e2e.events.mark()
    call = e2e.carrier_call(NUMBER, talk_ms=int(announcement * 1000) + 2500)
    assert call.wait(60).ok, call.responses()  # answered by the switch itself
    answered = e2e.events.wait_for(
        event_is("CHANNEL_ANSWER", Caller_Destination_Number=NUMBER), since=mark, what="switch answers"
    )
    uuid = answered["Unique-ID"]
    # The after-hours announcement really played (a file of kumo's prompts), then voicemail ran.
    played = e2e.events.wait_for(event_is("PLAYBACK_START", Unique_ID=uuid), since=mark, what="announcement")
    assert played.get("Playback-File-Path", "").endswith("after_hours.wav")
    stopped = e2e.events.wait_for(event_is("PLAYBACK_STOP", Unique_ID=uuid), since=mark, timeout=20)
    assert stopped.get("Playback-Status") == "done"  # played to its end, not cut off
    e2e.events.wait_for(
        event_is("CHANNEL_EXECUTE", Unique_ID=uuid, Application="voicemail"),
        since=mark,
        timeout=20,
        what="voicemail",
    )


def test_schedule_change_decides_the_next_call(e2e, shop: Tenant) -> None:
    _call_open(e2e, shop)
    _apply(e2e, shop, closed_today=True)
    _call_closed(e2e)
    _apply(e2e, shop, closed_today=False)
    _call_open(e2e, shop)


@pytest.fixture
def panel(e2e, shop: Tenant) -> Iterator[tuple[str, str]]:
    """`fsctl panel` on a free port, and an API token of the tenant (as its admin would make one)."""
    with running_panel(e2e, shop.domain, "shop") as panel_and_token:
        yield panel_and_token


def _put_schedule(base: str, token: str, closed_today: bool) -> None:
    request = urllib.request.Request(
        f"{base}/api/v1/schedules/hours",
        data=json.dumps(_hours(closed_today)).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200


def test_schedule_saved_through_the_panel_api_decides_the_next_call(e2e, shop: Tenant, panel) -> None:
    base, token = panel
    _put_schedule(base, token, closed_today=True)
    _call_closed(e2e)
    _put_schedule(base, token, closed_today=False)
    _call_open(e2e, shop)
