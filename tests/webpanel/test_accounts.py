"""Sign-up -> trial, the formal application, the operator's verification and activation."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from panel_helpers import PASSWORD, PanelClient, field_error, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db


def test_signup_creates_a_trial_tenant_and_its_administrator(app, client):
    response = signup(client, company="Acme Trading", email="Admin@Acme.example")
    assert response.status_code == 302
    tenant = tenant_of(app, "admin@acme.example")
    assert tenant.domain == "acme-trading.kumo.example"
    assert tenant.status == models.TenantStatus.TRIAL
    assert tenant.trial_started_on == dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    with app.app_context():
        profile = db.session.get(models.TenantProfile, tenant.id)
        assert (profile.contact_name, profile.phone, profile.email) == (
            "山田 太郎",
            "03-1234-5678",
            "admin@acme.example",
        )
        account = db.session.scalar(
            select(models.PanelAccount).where(models.PanelAccount.tenant_id == tenant.id)
        )
        assert account.role == models.AccountRole.ADMIN
        entry = db.session.scalar(select(models.AuditEntry).where(models.AuditEntry.tenant_id == tenant.id))
        assert entry.actor == "signup:admin@acme.example"
    page = client.get("/").get_data(as_text=True)
    # The status is in the header of every page.
    assert 'id="tenant-status"' in page and "トライアル中: 残り30日" in page


def test_japanese_company_names_get_a_domain_too_and_domains_are_unique(app):
    one, two = PanelClient(app.test_client()), PanelClient(app.test_client())
    signup(one, company="株式会社さくら", email="a@sakura.example")
    signup(two, company="Sakura", email="b@other.example")
    first, second = tenant_of(app, "a@sakura.example").domain, tenant_of(app, "b@other.example").domain
    assert first == "sakura.kumo.example"  # from the e-mail domain, the name has no ASCII
    assert second == "sakura-2.kumo.example"
    three = PanelClient(app.test_client())
    signup(three, company="株式会社", email="c@gmail.com")
    assert tenant_of(app, "c@gmail.com").domain.endswith(".kumo.example")


def test_the_platform_suffix_is_an_operator_setting(app, operator, client):
    operator.post("/operator/settings", {"sip_domain_suffix": "pbx.example.jp"})
    signup(client, company="Acme", email="x@acme.example")
    assert tenant_of(app, "x@acme.example").domain == "acme.pbx.example.jp"


def test_signup_errors_name_the_field_and_create_nothing(app, client):
    signup(client, email="taken@acme.example")
    other = PanelClient(app.test_client())
    page = signup(other, email="taken@acme.example", company="Other").get_data(as_text=True)
    assert field_error(page, "email") == "このメールアドレスのアカウントはすでに存在します"
    page = signup(other, email="new@acme.example", password="short").get_data(as_text=True)
    assert field_error(page, "password") == "10〜128文字にしてください"
    page = signup(other, email="new@acme.example", password="onlyletterspassword").get_data(as_text=True)
    assert field_error(page, "password") == "英字と数字または記号を組み合わせてください"
    page = signup(other, email="not-an-email", phone="abc").get_data(as_text=True)
    assert field_error(page, "email") and field_error(page, "phone")
    with app.app_context():
        assert len(db.session.scalars(select(models.Tenant)).all()) == 1


def test_application_then_operator_activation(app, client, operator):
    signup(client)
    tenant = tenant_of(app, "admin@acme.example")
    client.post(
        "/application",
        {
            "legal_name": "株式会社アクメ",
            "representative": "山田 太郎",
            "postal_code": "100-0001",
            "address": "東京都千代田区千代田1-1",
            "phone": "03-1234-5678",
        },
    )
    assert "お申込みを受け付けました" in client.get("/").get_data(as_text=True)
    listing = operator.get("/operator/tenants?q=acme").get_data(as_text=True)
    assert "Acme Trading" in listing and "要確認" in listing
    assert operator.get("/operator/tenants?status=active").get_data(as_text=True).count("Acme Trading") == 0
    response = operator.post(
        f"/operator/tenants/{tenant.id}", {"status": "active", "max_external_channels": "8"}
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(models.Tenant, tenant.id)
        assert row.status == models.TenantStatus.ACTIVE and row.max_external_channels == 8
        profile = db.session.get(models.TenantProfile, tenant.id)
        assert profile.verified_by == "ops@kumo.example" and profile.verified_at is not None
        actions = [
            e.action
            for e in db.session.scalars(
                select(models.AuditEntry).where(models.AuditEntry.tenant_id == tenant.id)
            )
        ]
        assert {"tenant.application", "tenant.operator_update", "tenant.verified"} <= set(actions)
        update = db.session.scalar(
            select(models.AuditEntry).where(models.AuditEntry.action == "tenant.operator_update")
        )
        assert update.actor == "panel:ops@kumo.example"
        assert set(json.loads(update.detail)["changed"]) == {"status", "max_external_channels"}
    assert "利用中" in client.get("/").get_data(as_text=True)
    # The tenant sees its own audit log, and the channel count, but cannot change the count.
    assert "tenant.operator_update" in client.get("/audit").get_data(as_text=True)
    client.post("/settings", {"max_external_channels": "99"})
    with app.app_context():
        assert db.session.get(models.Tenant, tenant.id).max_external_channels == 8


def test_operator_suspends_and_a_bad_channel_count_is_refused(app, client, operator):
    signup(client)
    tenant = tenant_of(app, "admin@acme.example")
    operator.post(f"/operator/tenants/{tenant.id}", {"status": "suspended", "max_external_channels": "-1"})
    with app.app_context():
        assert db.session.get(models.Tenant, tenant.id).status == models.TenantStatus.TRIAL  # nothing changed
    page = operator.get(f"/operator/tenants/{tenant.id}").get_data(as_text=True)
    assert "max_external_channels" in page
    operator.post(f"/operator/tenants/{tenant.id}", {"status": "suspended", "max_external_channels": "2"})
    assert "停止中" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_email_look_the_same(app, client):
    signup(client)
    other = PanelClient(app.test_client())
    wrong = other.login("admin@acme.example", "not-the-password")
    unknown = other.login("nobody@acme.example", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401

    # Same page (apart from the e-mail typed in, and the form's CSRF token, which is signed with the
    # second it was made in): nothing tells which accounts exist.
    def page(response, email: str) -> str:
        text = response.get_data(as_text=True).replace(email, "X@")
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1…"', text)

    assert 'name="csrf_token"' in wrong.get_data(as_text=True)
    assert 'value="…"' in page(wrong, "admin@")
    assert page(wrong, "admin@") == page(unknown, "nobody@")


def test_signups_per_address_are_limited(app):
    client = PanelClient(app.test_client())
    for n in range(5):
        assert signup(client, company=f"Company {n}", email=f"u{n}@example.jp").status_code == 302
        client.post("/logout")
    response = signup(client, company="One more", email="u9@example.jp")
    assert response.status_code == 429
    with app.app_context():
        assert (
            db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.email == "u9@example.jp"))
            is None
        )
