"""Operator pages: number inventory, audit log (tenants see only their own), platform settings."""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db


def test_inventory_ranges_and_assignment(app, operator, admin):
    response = operator.post("/operator/numbers", {"range": "0312345000-0312345009"})
    assert response.status_code == 302
    page = operator.get("/operator/numbers?show=free").get_data(as_text=True)
    assert "0312345000" in page and "+81312345000" in page
    page = operator.post(
        "/operator/numbers", {"range": "0312345000-0312345010"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "1 件の番号を追加しました (10 件は登録済み)" in page
    page = operator.post("/operator/numbers", {"range": "12345"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert 'class="flash error"' in page
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == "0312345003"))
    admin.post(f"/numbers/available/{number_id}/claim")
    page = operator.get("/operator/numbers?show=assigned").get_data(as_text=True)
    assert "0312345003" in page and "Acme Trading" in page and "0312345004" not in page
    page = operator.get("/operator/numbers?q=031234500&page=1").get_data(as_text=True)
    assert "0312345009" in page


def test_audit_log_scope(app, operator, admin):
    other = PanelClient(app.test_client())
    signup(other, company="Bravo", email="b@bravo.example")
    other.post("/settings", {"international_calls": "on"})
    admin.post("/settings", {"park": "700-709"})
    mine = admin.get("/audit").get_data(as_text=True)
    assert "admin@acme.example" in mine and "b@bravo.example" not in mine
    everything = operator.get("/operator/audit").get_data(as_text=True)
    assert "admin@acme.example" in everything and "b@bravo.example" in everything
    bravo = tenant_of(app, "b@bravo.example")
    only_bravo = operator.get(f"/operator/audit?tenant={bravo.id}").get_data(as_text=True)
    assert "admin@acme.example" not in only_bravo and "settings.update" in only_bravo


def test_platform_settings_and_phone_settings(app, operator, admin):
    operator.post("/operator/settings", {"sip_server": "sip.kumo.example", "sip_port": "5080"})
    with app.app_context():
        assert db.session.get(models.PlatformSetting, "sip_server").value == "sip.kumo.example"
    html = admin.post("/users/new", {"extension": "101", "name": "山田", "voicemail.enabled": "on"}).get_data(
        as_text=True
    )
    assert "<code>sip.kumo.example</code>" in html and "<code>5080</code>" in html


def test_operator_tenant_page_and_search(app, operator, admin):
    tenant = tenant_of(app, "admin@acme.example")
    page = operator.get(f"/operator/tenants/{tenant.id}").get_data(as_text=True)
    assert "山田 太郎" in page and "03-1234-5678" in page
    assert "Acme Trading" not in operator.get("/operator/tenants?q=zzz").get_data(as_text=True)
    assert operator.get("/operator/tenants/99999").status_code == 404


def test_inventory_classifies_050_and_0800_by_their_length(app, operator):
    """A 10-digit 050 number is a typo, not a geographic number."""
    from fsctl.numbers import NumberError, parse_inventory_number

    assert parse_inventory_number("05012345678")[2] == models.NumberKind.IP
    assert parse_inventory_number("08001234567")[2] == models.NumberKind.TOLL_FREE
    for typo in ("0501234567", "0800123456"):
        with pytest.raises(NumberError, match="11 digits"):
            parse_inventory_number(typo)
    page = operator.post("/operator/numbers", {"range": "0501234567"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert 'class="flash error"' in page
    with app.app_context():
        assert db.session.scalar(select(models.Number).where(models.Number.national == "0501234567")) is None


def test_a_suspended_customer_sees_the_support_contact(app, operator, admin):
    operator.post("/operator/settings", {"support_contact": "サポート 0120-000-111 (平日 9〜18時)"})
    assert 'id="support-contact"' not in admin.get("/").get_data(as_text=True)  # active: not needed
    set_status(app, tenant_of(app, "admin@acme.example").domain, "suspended")
    page = admin.get("/").get_data(as_text=True)
    assert "お問い合わせ先: サポート 0120-000-111 (平日 9〜18時)" in page
