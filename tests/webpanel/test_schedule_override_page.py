"""The override on the schedule page and in the API: 臨時休業 / 臨時営業 with an until, the banner,
ending it, errors on their field, in Japanese and English; what is stored is what routing reads."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select
from test_api import api, make_token
from test_schedule_week import business

from fsctl import models
from webpanel.extensions import db

JST = ZoneInfo("Asia/Tokyo")


def _row(app) -> models.Schedule:
    with app.app_context():
        row = db.session.scalar(select(models.Schedule))
        db.session.expunge(row)
        return row


def _until(row: models.Schedule) -> dt.datetime | None:
    value = row.override_until
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=dt.UTC))


def _version(app) -> int:
    with app.app_context():
        return db.session.scalar(select(models.Tenant.config_version).where(models.Tenant.domain != ""))


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_temporary_closure_until_a_chosen_time_then_ended(app, admin):
    business(admin)
    row = _row(app)
    page = admin.get(f"/schedules/{row.id}").get_data(as_text=True)
    assert 'id="override-closed"' in page and "臨時休業" in page and "臨時営業" in page
    assert "*211" in page and "*221" in page and "*231" in page  # the phone codes of schedule 1
    before = _version(app)
    until = (dt.datetime.now(JST) + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    response = admin.post(
        f"/schedules/{row.id}/override", {"mode": "closed", "until": until.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#override")
    stored = _row(app)
    assert stored.override_mode == "closed" and _until(stored) == until  # the tenant's clock
    assert _version(app) == before + 1  # the very next call is decided by it
    page = admin.get(f"/schedules/{row.id}").get_data(as_text=True)
    text = _text(page)
    assert "臨時休業にしました" in text  # the flash
    assert 'data-override="closed"' in page and "臨時休業中" in text
    assert f"{until:%Y/%m/%d %H:%M} まで" in text
    assert 'data-open="no"' in page  # the badge: closed now, whatever the hours say
    assert 'id="override-end"' in page and 'id="override-closed"' not in page

    # Saving the schedule's own form keeps the override.
    form = {
        "name": "business",
        "open-count": "1",
        "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
        "open-0-from": "08:00",
        "open-0-to": "18:00",
        "holidays_closed": "on",
    }
    assert admin.post(f"/schedules/{row.id}", form).status_code == 302
    assert _row(app).override_mode == "closed"

    assert admin.post(f"/schedules/{row.id}/override/end").status_code == 302
    ended = _row(app)
    assert ended.override_mode is None and ended.override_until is None
    page = admin.get(f"/schedules/{row.id}").get_data(as_text=True)
    assert "臨時切り替えを解除しました" in _text(page) and 'id="override-closed"' in page


def test_without_a_time_it_holds_until_the_regular_hours_turn_that_way(app, admin):
    business(admin)
    row = _row(app)
    assert admin.post(f"/schedules/{row.id}/override", {"mode": "open", "until": ""}).status_code == 302
    stored = _row(app)
    assert stored.override_mode == "open"
    until = _until(stored).astimezone(JST)
    # Regular hours open at 09:00 on weekdays (and Saturday 22:00): the default ends at one of them.
    assert (until.hour, until.minute) in ((9, 0), (22, 0)) and until > dt.datetime.now(JST)
    admin.post(f"/schedules/{row.id}/override/end")
    assert admin.post(f"/schedules/{row.id}/override", {"mode": "closed", "no_end": "on"}).status_code == 302
    stored = _row(app)
    assert stored.override_mode == "closed" and stored.override_until is None
    assert "解除するまで" in _text(admin.get(f"/schedules/{row.id}").get_data(as_text=True))


def test_a_time_already_past_is_refused_on_its_field_in_both_languages(app, admin):
    business(admin)
    row = _row(app)
    before = _version(app)
    response = admin.post(f"/schedules/{row.id}/override", {"mode": "closed", "until": "2020-01-01T10:00"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field="until"' in page and "現在より後の日時を指定してください" in page
    assert 'value="2020-01-01T10:00"' in page  # what was typed stays
    assert _row(app).override_mode is None and _version(app) == before
    admin.get("/lang/en")
    page = admin.post(f"/schedules/{row.id}/override", {"mode": "closed", "until": "soon"}).get_data(
        as_text=True
    )
    assert "not a date and time such as 2026-12-07T18:00+09:00" in page
    page = admin.get(f"/schedules/{row.id}").get_data(as_text=True)
    assert "Temporary closure" in page and "Extra opening" in page and "From a phone: *211 closes" in page


def test_the_english_banner(app, admin):
    business(admin)
    row = _row(app)
    admin.get("/lang/en")
    admin.post(f"/schedules/{row.id}/override", {"mode": "open", "no_end": "on"})
    text = _text(admin.get(f"/schedules/{row.id}").get_data(as_text=True))
    assert "Override active: open until you end it" in text and "Open now" in text
    assert "Calls are routed as if the schedule were open." in text


def test_the_api_sets_and_ends_it_with_errors_naming_the_field(app, admin):
    business(admin)
    token = make_token(admin)
    raw = app.test_client()
    url = "/api/v1/schedules/business/override"
    response = api(raw, "PUT", url, token, {"mode": "closed", "until": "2031-04-01T09:00:00+09:00"})
    assert response.status_code == 200, response.json
    assert response.json["override"] == {"mode": "closed", "until": "2031-04-01T09:00:00+09:00"}
    stored = _row(app)
    assert _until(stored) == dt.datetime(2031, 4, 1, 0, 0, tzinfo=dt.UTC)
    # The schedule's GET shows it; a wall-clock until is the tenant's.
    assert api(raw, "GET", "/api/v1/schedules/business", token).json["override"]["mode"] == "closed"
    response = api(raw, "PUT", url, token, {"mode": "open", "until": "2031-04-01T09:00"})
    assert response.json["override"] == {"mode": "open", "until": "2031-04-01T09:00:00+09:00"}
    assert api(raw, "PUT", url, token, {"mode": "open", "until": None}).json["override"] == {"mode": "open"}
    assert api(raw, "PUT", url, token, {"mode": "closed"}).json["override"]["until"]  # the default

    for body, field in (
        ({"mode": "shut"}, "mode"),
        ({}, "mode"),
        ({"mode": "closed", "until": "2020-01-01T00:00:00+09:00"}, "until"),
        ({"mode": "closed", "until": "tomorrow"}, "until"),
        ({"mode": "closed", "until": 5}, "until"),
        ({"mode": "closed", "colour": "red"}, "colour"),
    ):
        response = api(raw, "PUT", url, token, body)
        assert response.status_code == 422 and [e["field"] for e in response.json["errors"]] == [field], body
    assert api(raw, "PUT", "/api/v1/schedules/nope/override", token, {"mode": "open"}).status_code == 404

    response = api(raw, "DELETE", url, token)
    assert response.status_code == 200 and "override" not in response.json
    assert _row(app).override_mode is None
    document = raw.get("/api/openapi.json").json
    assert set(document["paths"]["/api/v1/schedules/{value}/override"]) >= {"put", "delete"}
    assert set(document["components"]["schemas"]["Override"]["properties"]) == {"mode", "until"}


def test_a_tenant_file_until_without_offset_is_refused_through_the_api(app, admin):
    business(admin)
    token = make_token(admin)
    raw = app.test_client()
    entry = api(raw, "GET", "/api/v1/schedules/business", token).json
    entry["override"] = {"mode": "closed", "until": "2031-04-01T09:00"}
    response = api(raw, "PUT", "/api/v1/schedules/business", token, entry)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "override.until"
    assert response.json["errors"][0]["code"] == "no_utc_offset"


def test_the_simulator_names_the_override_in_both_languages(app, admin, session_factory):
    from test_trace_words import NUMBER, OWN_WORDS, _setup, steps_text

    _setup(app, admin, session_factory)
    row = _row(app)
    admin.post(f"/schedules/{row.id}/override", {"mode": "closed", "no_end": "on"})
    ja = steps_text(admin, "", NUMBER, "10:00")  # a Monday at 10:00: open by the hours
    assert "臨時休業中: 解除するまで" in ja and "留守番電話" in ja
    english = {w for w in re.findall(r"[A-Za-z_']{3,}", ja) if w.strip("'") not in OWN_WORDS}
    assert not english, ja
    admin.get("/lang/en")
    en = steps_text(admin, "", NUMBER, "10:00")
    assert "closed: temporary closure until you end it (now 2026-12-07 10:00)" in en

    # Until a time: after it, the simulator says it ended and the hours decide.
    admin.post(f"/schedules/{row.id}/override/end")
    until = (dt.datetime.now(JST) + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    admin.post(f"/schedules/{row.id}/override", {"mode": "closed", "until": until.strftime("%Y-%m-%dT%H:%M")})
    later = until + dt.timedelta(days=7)
    later = later - dt.timedelta(days=later.weekday())  # a Monday, a week on
    page = admin.get(f"/what-if/?from=&to={NUMBER}&day={later:%Y-%m-%d}&time=10:00").get_data(as_text=True)
    text = _text(page)
    assert f"ended {until:%Y-%m-%d %H:%M}; the regular hours apply" in text
    assert "Override of schedule business" in text


def test_the_tenant_files_override_errors_in_the_panels_words(app):
    from fsctl.tenant_file import FieldError
    from webpanel.error_words import explain

    doc = {"schedules": [{"name": "business"}]}
    error = FieldError(
        ("schedules", 0, "override", "until"),
        "'2026-12-07T18:00' needs its UTC offset, such as 2026-12-07T18:00+09:00",
        "no_utc_offset",
        {"value": "2026-12-07T18:00"},
    )
    for lang, sentence in (
        ("ja", "スケジュール business の「臨時切り替えの終了日時」: 2026-12-07T18:00 には時差"),
        ("en", "Schedule business, Override until: 2026-12-07T18:00 needs its UTC offset"),
    ):
        with app.test_request_context(headers={"Accept-Language": lang}):
            from flask import session

            session["lang"] = lang
            assert explain(error, doc, 0).text.startswith(sentence), explain(error, doc, 0).text
