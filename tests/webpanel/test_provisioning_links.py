"""Phone set-up links: Linphone's remote-provisioning XML with the digest HA1 (never the password),
once and for a limited time, for the right user only; the welcome e-mail that carries one."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from billing_smtp import SmtpSink
from lxml import etree
from panel_helpers import PanelClient
from sqlalchemy import select
from test_tenant_pages import user_id

from fsctl import models
from fsctl.media.settings import SmtpSettings
from webpanel.extensions import db

BASE = "https://panel.kumo.example"
LP = "{http://www.linphone.org/xsds/lpconfig.xsd}"


@pytest.fixture
def smtp(app):
    sink = SmtpSink().start()
    app.config["SMTP_SETTINGS"] = SmtpSettings(host="127.0.0.1", port=sink.port, sender="ops@kumo.example")
    yield sink
    sink.stop()


def _new_user(app, admin: PanelClient, extension: str = "101") -> tuple[str, str]:
    app.config["WEBPANEL_BASE_URL"] = BASE
    page = admin.post("/users/new", {"extension": extension, "name": "山田 太郎"}).get_data(as_text=True)
    password = re.search(r'id="sip-password">([^<]+)<', page).group(1)
    link = re.search(r'id="setup-link" href="([^"]+)"', page)
    link = link or re.search(r'href="([^"]+)" id="setup-link"', page)
    return password, link.group(1)


def _entries(xml: bytes, section: str) -> dict[str, str]:
    root = etree.fromstring(xml)
    found = root.find(f"{LP}section[@name='{section}']")
    return {e.get("name"): e.text for e in found.findall(f"{LP}entry")}


def test_the_credentials_page_offers_a_link_linphone_reads_once(app, admin):
    password, link = _new_user(app, admin)
    assert link.startswith(f"{BASE}/provision/")
    path = link[len(BASE) :]
    response = PanelClient(app.test_client()).get(path)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        tenant = db.session.scalar(select(models.Tenant))
    auth = _entries(response.data, "auth_info_0")
    assert auth["username"] == "101" and auth["realm"] == tenant.domain
    # The digest HA1 Linphone answers with: md5(user:realm:password), never the password itself.
    assert auth["ha1"] == hashlib.md5(f"101:{tenant.domain}:{password}".encode()).hexdigest()
    assert password.encode() not in response.data
    proxy = _entries(response.data, "proxy_0")
    assert proxy["reg_identity"] == f'"山田 太郎" <sip:101@{tenant.domain}>'
    assert proxy["reg_proxy"].startswith(f"<sip:{tenant.domain}:5060")
    assert _entries(response.data, "misc")["transient_provisioning"] == "1"
    # Once only: a copy of the link is worth nothing.
    assert PanelClient(app.test_client()).get(path).status_code == 404
    assert PanelClient(app.test_client()).get("/provision/not-a-token").status_code == 404


def test_a_new_link_ends_the_old_one_and_links_expire(app, admin):
    _, first = _new_user(app, admin)
    page = admin.post(f"/users/{user_id(app, '101')}/setup-link").get_data(as_text=True)
    second = re.search(r'id="setup-link">([^<]+)<', page).group(1)
    assert 'id="setup-qr"><svg' in page and second != first
    client = PanelClient(app.test_client())
    assert client.get(first[len(BASE) :]).status_code == 404
    with app.app_context():
        for row in db.session.scalars(select(models.ProvisioningLink)):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert client.get(second[len(BASE) :]).status_code == 404


def test_the_welcome_e_mail_carries_a_week_long_link(app, admin, smtp):
    _new_user(app, admin)
    uid = user_id(app, "101")
    assert admin.post(f"/users/{uid}/welcome", {"email": "bad address"}).status_code == 302
    assert smtp.messages == []
    admin.post(f"/users/{uid}/login", {"email": "yamada@acme.example", "password": "Panel-pass-2026"})
    response = admin.post(f"/users/{uid}/welcome", {"email": "yamada@acme.example"})
    assert response.status_code == 302
    (mail,) = smtp.messages
    assert mail.recipients == ["yamada@acme.example"]
    body = mail.message.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(BASE)}/provision/[A-Za-z0-9_-]+", body).group(0)
    assert "内線 101" in mail.message["Subject"] and "yamada@acme.example" in body
    with app.app_context():
        row = db.session.scalars(
            select(models.ProvisioningLink).order_by(models.ProvisioningLink.id.desc())
        ).first()
        lifetime = row.expires_at - row.created_at
    assert dt.timedelta(days=6) < lifetime <= dt.timedelta(days=7)
    assert PanelClient(app.test_client()).get(link[len(BASE) :]).status_code == 200


def test_another_tenants_admin_cannot_make_links_for_our_users(app, admin):
    from panel_helpers import set_status, signup, tenant_of

    _new_user(app, admin)
    uid = user_id(app, "101")
    other = PanelClient(app.test_client())
    signup(other, company="Beta Works", email="boss@beta.example")
    set_status(app, tenant_of(app, "boss@beta.example").domain, "active")
    assert other.post(f"/users/{uid}/setup-link").status_code == 404
    assert other.post(f"/users/{uid}/welcome", {"email": "x@beta.example"}).status_code == 404
