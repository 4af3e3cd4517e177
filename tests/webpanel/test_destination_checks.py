"""Save-time check: a destination that can never work is refused (or warned), naming why."""

from __future__ import annotations

import html
import json

from panel_helpers import PanelClient, field_error, signup
from test_api import api, make_token
from test_tenant_pages import add_user, document, user_id

INTERNATIONAL = "01012025550123"


def forward_always(admin, app, extension: str, number: str):
    uid = user_id(app, extension)
    return admin.post(
        f"/users/{uid}",
        {
            "name": "山田 太郎",
            "direction": "both",
            "voicemail.enabled": "on",
            "forward.always": "external",
            "forward.always.target": number,
        },
    )


def test_an_international_forward_with_international_calls_off_is_refused(app, admin):
    add_user(admin, "101")
    before = document(app)
    response = forward_always(admin, app, "101", INTERNATIONAL)
    assert response.status_code == 422
    shown = html.unescape(field_error(response.get_data(as_text=True), "forward.always.external") or "")
    assert shown == (
        f"{INTERNATIONAL} は国際電話の番号ですが、国際電話が無効です (設定)。ここへ送る通話はすべてつながりません。"
    )
    assert document(app) == before
    # A domestic number is fine.
    assert forward_always(admin, app, "101", "0312345678").status_code == 302
    assert document(app)["users"][0]["forward"]["always"] == {"external": "0312345678"}


def test_with_international_calls_on_it_is_saved_and_turning_them_off_warns(app, admin):
    add_user(admin, "101")
    admin.post("/settings", {"international_calls": "on", "language": "ja"})
    assert document(app)["international_calls"] is True
    assert forward_always(admin, app, "101", INTERNATIONAL).status_code == 302
    admin.get("/lang/en")
    page = html.unescape(
        admin.post("/settings", {"language": "ja"}, follow_redirects=True).get_data(as_text=True)
    )
    # The settings change is saved; the forward it breaks is named, with its page.
    assert document(app)["international_calls"] is False
    assert f"User 101 (山田 太郎), Always forward to: {INTERNATIONAL} is an international number" in page
    assert f'href="/users/{user_id(app, "101")}"' in page
    assert 'class="flash warn"' in page


def test_an_emergency_number_cannot_be_a_forward(app, admin):
    # fsctl's own routing validation refuses it; the panel says so in words, on the field.
    add_user(admin, "101")
    response = forward_always(admin, app, "101", "110")
    assert response.status_code == 422
    shown = field_error(response.get_data(as_text=True), "forward.always.external")
    assert shown == "110 は緊急通報番号のため転送先にできません"


def test_during_the_trial_an_outside_forward_is_saved_with_a_warning(app):
    panel = PanelClient(app.test_client())
    signup(panel)
    add_user(panel, "101")
    page = html.unescape(forward_always(panel, app, "101", "0312345678").data.decode())
    assert document(app)["users"][0]["forward"]["always"] == {"external": "0312345678"}
    followed = html.unescape(panel.get(f"/users/{user_id(app, '101')}").get_data(as_text=True))
    assert "お試し期間中は外線に発信できません" in followed + page


def test_the_api_refuses_it_naming_the_field(app, admin):
    add_user(admin, "101")
    raw = app.test_client()
    token = make_token(admin)
    body = {"extension": "101", "name": "山田 太郎", "forward": {"always": {"external": INTERNATIONAL}}}
    response = api(raw, "PUT", "/api/v1/users/101", token, body)
    assert response.status_code == 422
    fields = [e["field"] for e in json.loads(response.data)["errors"]]
    assert "forward.always.external" in fields, fields
    assert document(app)["users"][0]["forward"].get("always") is None
