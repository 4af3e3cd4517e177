"""The simulator's steps in the customer's words: no developer English on the common call paths."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from test_ivr_page import NUMBER, claim, menu_form, with_users

# Names the test itself gave (shown as they are) and what stays Latin in Japanese too.
OWN_WORDS = {"business", "reception", "main", "IVR", "JST"}


def _setup(app, admin, session_factory) -> None:
    with_users(admin, "101", "102")
    admin.post(
        "/users/new",
        {
            "extension": "103",
            "name": "転送",
            "forward.always": "external",
            "forward.always.target": "0120111222",
            "voicemail.enabled": "on",
        },
    )
    admin.post(
        "/ring-groups/new",
        {"name": "reception", "members": "101, 102", "strategy": "simultaneous", "ring_seconds": "20"},
    )
    admin.post(
        "/ivr-menus/new", menu_form("main", **{"options.3": "ring_group", "options.3.target": "reception"})
    )
    admin.post(
        "/schedules/new",
        {
            "name": "business",
            "open-count": "1",
            "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
            "open-0-from": "09:00",
            "open-0-to": "18:00",
            "open_destination": "ivr",
            "open_destination.target": "main",
            "closed_destination": "voicemail",
            "closed_destination.target": "101",
        },
    )
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "schedule", "destination.target": "business"})


def steps_text(admin, caller: str, dialled: str, time: str) -> str:
    page = admin.get(f"/what-if/?from={caller}&to={dialled}&day=2026-12-07&time={time}").get_data(
        as_text=True
    )
    found = re.search(r'<ol class="decisions">(.*?)</ol>', page, re.S)
    assert found, "no steps shown"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


CALLS = [
    ("", NUMBER, "10:00"),  # open: the IVR menu
    ("", NUMBER, "20:00"),  # closed: announcement, then voicemail
    ("101", "102", "10:00"),  # internal: ring, then voicemail
    ("101", "0312349999", "10:00"),  # outside call
    ("101", "01012025550123", "10:00"),  # international, off
    ("101", "103", "10:00"),  # always forwarded outside
    ("101", "110", "10:00"),  # emergency
]


@pytest.mark.parametrize(("caller", "dialled", "time"), CALLS)
def test_japanese_steps_have_no_developer_english(app, admin, session_factory, caller, dialled, time):
    _setup(app, admin, session_factory)
    text = steps_text(admin, caller, dialled, time)
    english = {w for w in re.findall(r"[A-Za-z_']{3,}", text) if w.strip("'") not in OWN_WORDS}
    assert not english, text


def test_closed_schedule_reads_as_a_sentence_in_both_languages(app, admin, session_factory):
    _setup(app, admin, session_factory)
    ja = steps_text(admin, "", NUMBER, "20:00")
    assert "スケジュール business" in ja and "時間外" in ja and "留守番電話" in ja
    assert "0312345000 is 0312345000" not in ja
    admin.get("/lang/en")
    en = steps_text(admin, "", NUMBER, "20:00")
    assert "Schedule business" in en and "closed: outside the open hours (now 2026-12-07 20:00)" in en
    assert "voicemail issue" not in en and "tenant" not in en


def test_blank_date_and_time_mean_now_on_the_tenants_clock(app, admin):
    """Not UTC: at 03:27 UTC the question is about 12:27 in Tokyo."""
    with_users(admin, "101", "102")
    before = dt.datetime.now(ZoneInfo("Asia/Tokyo"))
    page = admin.get("/what-if/?from=101&to=102").get_data(as_text=True)
    after = dt.datetime.now(ZoneInfo("Asia/Tokyo"))
    shown = {f"{t:%Y/%m/%d %H:%M}" for t in (before, after)}
    assert any(f"{s} に 101 から 102 への通話" in page for s in shown), page
    utc = dt.datetime.now(dt.UTC)
    assert f"{utc:%Y/%m/%d %H:%M} に" not in page
