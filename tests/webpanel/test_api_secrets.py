"""The API never returns a voicemail PIN, and keeps one a client cannot read back."""

from __future__ import annotations

from sqlalchemy import select
from test_api import api, make_token

from fsctl import models
from webpanel.extensions import db


def stored_pin(app) -> str | None:
    with app.app_context():
        return db.session.scalar(select(models.User.voicemail_pin))


def test_users_never_carry_the_voicemail_pin(app, admin):
    token = make_token(admin)
    raw = app.test_client()
    body = {"extension": "101", "name": "山田", "voicemail": {"pin": "4321", "email": "y@acme.example"}}
    created = api(raw, "POST", "/api/v1/users", token, body)
    assert created.status_code == 201 and "4321" not in created.get_data(as_text=True)
    for url in ("/api/v1/users", "/api/v1/users/101"):
        response = api(raw, "GET", url, token)
        assert response.status_code == 200
        assert "4321" not in response.get_data(as_text=True)
    user = api(raw, "GET", "/api/v1/users/101", token).json
    assert "pin" not in user["voicemail"] and user["voicemail"]["email"] == "y@acme.example"
    # What a client read it may write back: the PIN it never saw stays as it was.
    user["name"] = "山田 太郎"
    replaced = api(raw, "PUT", "/api/v1/users/101", token, user)
    assert replaced.status_code == 200 and "4321" not in replaced.get_data(as_text=True)
    assert stored_pin(app) == "4321"
    # A new PIN is taken, and still not shown; null removes it.
    assert "9876" not in api(
        raw, "PUT", "/api/v1/users/101", token, dict(user, voicemail={"pin": "9876"})
    ).get_data(as_text=True)
    assert stored_pin(app) == "9876"
    api(raw, "PUT", "/api/v1/users/101", token, dict(user, voicemail={"pin": None}))
    assert stored_pin(app) is None


def test_the_panel_form_does_not_show_the_pin_and_keeps_it(app, admin):
    admin.post("/users/new", {"extension": "101", "name": "山田", "voicemail.pin": "4321"})
    with app.app_context():
        user_id = db.session.scalar(select(models.User.id))
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert "4321" not in page and "設定済み" in page
    admin.post(f"/users/{user_id}", {"name": "山田 太郎", "voicemail.enabled": "on"})
    assert stored_pin(app) == "4321"
    admin.post(f"/users/{user_id}", {"name": "山田 太郎", "voicemail.pin": "8642"})
    assert stored_pin(app) == "8642"
    admin.post(f"/users/{user_id}", {"name": "山田 太郎", "voicemail.pin_clear": "on"})
    assert stored_pin(app) is None
