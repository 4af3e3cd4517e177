"""Several administrators per tenant: add, sign in, remove; never the last one."""

from __future__ import annotations

import html

from panel_helpers import PASSWORD, PanelClient, field_error
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db


def account_id(app, email: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(models.PanelAccount.id).where(models.PanelAccount.email == email))


def test_a_second_administrator_signs_in_and_can_be_removed(app, admin):
    response = admin.post(
        "/administrators/",
        {"email": "Hanako@Acme.example", "display_name": "佐藤 花子", "password": PASSWORD},
    )
    assert response.status_code == 302
    second = PanelClient(app.test_client())
    assert second.login("hanako@acme.example").status_code == 302
    assert second.get("/users/").status_code == 200  # an administrator's page
    other = account_id(app, "hanako@acme.example")
    asked = html.unescape(admin.post(f"/administrators/{other}/remove").get_data(as_text=True))
    assert "管理者 hanako@acme.example を削除しますか?" in asked and account_id(app, "hanako@acme.example")
    admin.post(f"/administrators/{other}/remove", {"confirm": "yes"})
    assert account_id(app, "hanako@acme.example") is None
    assert second.get("/users/").status_code in (302, 401, 403)  # its session ended


def test_never_yourself_nor_the_last_administrator(app, admin):
    me = account_id(app, "admin@acme.example")
    admin.post(f"/administrators/{me}/remove", {"confirm": "yes"})
    assert account_id(app, "admin@acme.example") == me


def test_errors_are_shown_on_every_field_at_once(app, admin):
    response = admin.post(
        "/administrators/", {"email": "admin@acme.example", "display_name": "", "password": "short"}
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert field_error(page, "email") == "このメールアドレスのアカウントはすでに存在します。"
    assert field_error(page, "display_name") == "入力してください。"
    assert field_error(page, "password")
