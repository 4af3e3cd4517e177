"""Schedule pictures: a week timeline and a "now open/closed" badge from the routing."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db
from webpanel.views.schedule_pictures import picture

TOKYO = "Asia/Tokyo"


def business(admin, **extra) -> None:
    form = {
        "name": "business",
        "open-count": "2",
        "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
        "open-0-from": "09:00",
        "open-0-to": "18:00",
        "open-1-days": ["sat"],
        "open-1-from": "22:00",
        "open-1-to": "06:00",
        "holidays_closed": "on",
    }
    form.update(extra)
    assert admin.post("/schedules/new", form).status_code == 302


def schedule_row(app) -> models.Schedule:
    return db.session.scalar(select(models.Schedule))


def test_the_week_and_the_badge_follow_the_routing(app, admin):
    business(admin)
    with app.test_request_context():  # gettext: the Japanese panel by default
        row = schedule_row(app)
        monday_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo(TOKYO))
        pic = picture(row, TOKYO, monday_10)
        assert pic.open_now and pic.now_minute == 600
        hours = {r.key: r.hours for r in pic.rows}
        assert hours["mon"] == "09:00–18:00"
        assert hours["sat"] == "22:00–24:00" and hours["sun"] == "00:00–06:00"  # past midnight: next row
        assert [r.today for r in pic.rows] == [True, False, False, False, False, False, False]
        evening = picture(row, TOKYO, monday_10.replace(hour=20))
        assert not evening.open_now and "20:00" in evening.why
        # 2026-11-23 (Mon) is 勤労感謝の日: closed all day, and the badge says which holiday.
        holiday = picture(row, TOKYO, dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(TOKYO)))
        assert not holiday.open_now and "勤労感謝の日" in holiday.why


def test_the_pages_draw_the_week(app, admin):
    business(admin)
    page = admin.get("/schedules/").get_data(as_text=True)
    assert 'id="week-business"' in page
    assert re.search(r'data-open="(yes|no)">現在 (営業中|時間外)<', page)
    assert page.count('class="open-time"') == 7  # Mon–Fri, Sat 22–24, Sun 0–6
    assert '<rect x="540" y="0" width="540"' in page  # 09:00 is minute 540, nine hours long
    with app.app_context():
        schedule_id = schedule_row(app).id
    edit = admin.get(f"/schedules/{schedule_id}").get_data(as_text=True)
    assert 'id="week"' in edit and 'aria-label="月: 09:00–18:00"' in edit
