"""Password reset by e-mail: single use, 30 minutes, stored hashed, no enumeration;
and the CSP's base-uri / form-action."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from billing_smtp import SmtpSink
from panel_helpers import PanelClient, csrf_session, field_error, make_operator
from sqlalchemy import select

from fsctl import models
from fsctl.media.settings import SmtpSettings
from webpanel.extensions import db

BASE = "https://panel.kumo.example"
LINK = re.compile(re.escape(BASE) + r"/password-reset/([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp(app):
    sink = SmtpSink().start()
    app.config["SMTP_SETTINGS"] = SmtpSettings(host="127.0.0.1", port=sink.port, sender="panel@kumo.example")
    app.config["WEBPANEL_BASE_URL"] = BASE
    yield sink
    sink.stop()


def ask(app, email: str, **kwargs) -> str:
    response = PanelClient(app.test_client()).post("/password-reset", {"email": email}, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def mailed_token(smtp: SmtpSink, index: int = -1) -> str:
    body = smtp.messages[index].message.get_body(("plain",)).get_content()
    return LINK.search(body).group(1)


def test_a_link_is_mailed_and_works_once(app, smtp):
    owner = make_operator(app, "owner@kumo.example")
    before = PanelClient(app.test_client())
    assert before.login(owner).status_code == 302
    # Asked with a forged Host header: the link still names the configured base URL.
    raw = app.test_client()
    token = csrf_session(raw, "forged-host", base_url="http://evil.example")
    response = raw.post(
        "/password-reset", base_url="http://evil.example", data={"email": owner, "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert 'id="reset-sent"' in page
    assert [m.recipients for m in smtp.messages] == [[owner]]
    message = smtp.messages[0].message
    assert "パスワードの再設定" in message["Subject"] and "Password reset" in message["Subject"]
    assert "evil.example" not in message.get_body(("plain",)).get_content()  # never the request's Host
    token = mailed_token(smtp)
    with app.app_context():
        row = db.session.scalar(select(models.PasswordReset))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash

    client = PanelClient(app.test_client())
    assert client.get(f"/password-reset/{token}").status_code == 200
    response = client.post(f"/password-reset/{token}", {"new": "short"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "new") == "10文字以上にしてください"
    response = client.post(f"/password-reset/{token}", {"new": "Brand-new-pass-7"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    # Single use; the old password and the sessions from before are gone.
    assert client.get(f"/password-reset/{token}").status_code == 404
    assert client.post(f"/password-reset/{token}", {"new": "Another-pass-77"}).status_code == 404
    assert PanelClient(app.test_client()).login(owner).status_code == 401
    assert PanelClient(app.test_client()).login(owner, "Brand-new-pass-7").status_code == 302
    assert before.get("/operator/tenants").status_code == 302


def test_unknown_and_known_addresses_get_the_same_answer(app, smtp):
    make_operator(app, "owner@kumo.example")
    known = ask(app, "owner@kumo.example")
    unknown = ask(app, "nobody@kumo.example")
    strip = re.compile(r'name="csrf_token" value="[^"]*"')
    assert strip.sub("", known) == strip.sub("", unknown)
    assert [m.recipients for m in smtp.messages] == [["owner@kumo.example"]]


def test_an_expired_link_or_a_disabled_account_gets_nothing(app, smtp):
    owner = make_operator(app, "owner@kumo.example")
    ask(app, owner)
    token = mailed_token(smtp)
    with app.app_context():
        row = db.session.scalar(select(models.PasswordReset))
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    page = PanelClient(app.test_client()).get(f"/password-reset/{token}")
    assert page.status_code == 404 and 'id="reset-invalid"' in page.get_data(as_text=True)
    with app.app_context():
        account = db.session.scalar(select(models.PanelAccount))
        account.disabled_at = dt.datetime.now(dt.UTC)
        db.session.commit()
    ask(app, owner)
    assert len(smtp.messages) == 1


def test_requests_are_limited_per_address(app, smtp):
    owner = make_operator(app, "owner@kumo.example")
    for _ in range(5):
        ask(app, owner)
    assert len(smtp.messages) == 3


def test_the_pages_speak_english_too(app, smtp):
    client = PanelClient(app.test_client())
    client.get("/lang/en")
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    assert "Forgot your password?" in client.get("/password-reset").get_data(as_text=True)
    assert "パスワードをお忘れですか" in PanelClient(app.test_client()).get("/login").get_data(as_text=True)


def test_csp_forbids_base_and_foreign_form_targets(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "base-uri 'none'" in policy and "form-action 'self'" in policy
