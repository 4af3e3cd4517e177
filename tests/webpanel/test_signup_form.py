"""Sign-up: every error at once in words that say what to do, a second company with
the same name held back with the reason, a trial overview that does not promise outside calls."""

from __future__ import annotations

import html

from panel_helpers import PASSWORD, PanelClient, field_error
from sqlalchemy import func, select

from fsctl import models
from webpanel.extensions import db


def post(client: PanelClient, **fields: str):
    data = {"company": "", "contact_name": "", "phone": "", "email": "", "password": ""}
    data.update(fields)
    return client.post("/signup", data)


def tenants(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(models.Tenant))


def errors_of(response) -> dict[str, str | None]:
    page = html.unescape(response.get_data(as_text=True))
    return {k: field_error(page, k) for k in ("company", "contact_name", "phone", "email", "password")}


def test_empty_fields_ask_to_be_filled_in(app, client):
    assert set(errors_of(post(client)).values()) == {"入力してください。"}
    assert tenants(app) == 0


def test_every_problem_is_shown_at_once(app, client):
    post(
        client,
        company="Acme",
        contact_name="山田",
        phone="0312345678",
        email="taken@acme.example",
        password=PASSWORD,
    )
    other = PanelClient(app.test_client())
    # A bad phone number no longer hides the weak password and the taken address.
    errors = errors_of(
        post(
            other,
            company="Beta",
            contact_name="佐藤",
            phone="abc",
            email="taken@acme.example",
            password="onlyletterspassword",
        )
    )
    assert errors["phone"] == "数字・空白・+ - ( ) のみ使えます"
    assert errors["password"] == "英字と数字または記号を組み合わせてください"
    assert errors["email"] == "このメールアドレスのアカウントはすでに存在します"
    assert tenants(app) == 1


def test_a_second_company_with_the_same_name_is_asked_first(app, client):
    fields = {"contact_name": "山田", "phone": "0312345678", "password": PASSWORD}
    assert post(client, company="株式会社さくら", email="a@sakura.example", **fields).status_code == 302
    other = PanelClient(app.test_client())
    # The same name written with a full-width space and letters is the same name.
    response = post(other, company="株式会社　さくら", email="b@other.example", **fields)
    page = html.unescape(response.get_data(as_text=True))
    assert "この会社名はすでに kumo を利用しています" in page and 'name="different_company"' in page
    assert tenants(app) == 1
    response = post(
        other, company="株式会社　さくら", email="b@other.example", different_company="on", **fields
    )
    assert response.status_code == 302 and tenants(app) == 2


def test_the_trial_overview_does_not_promise_outside_calls(app, client):
    post(
        client,
        company="Acme",
        contact_name="山田",
        phone="0312345678",
        email="a@acme.example",
        password=PASSWORD,
    )
    page = client.get("/").get_data(as_text=True)
    assert 'id="outside-calls"' in page and "お試し期間中は利用できません" in page
    assert "外線同時通話" not in page and 'id="lines-in-use"' not in page
