"""The billing page: month to date, forecast, past statements and their PDFs (tenant-checked)."""

from __future__ import annotations

import datetime as dt

import pytest
from panel_helpers import PASSWORD, PanelClient, set_status, signup, tenant_of

from fsctl import models
from fsctl.billing.close import close_month
from fsctl.billing.prices import default_prices
from fsctl.billing.settings import BillingSettings
from fsctl.billing.statement import Month
from webpanel.extensions import db

pytestmark = pytest.mark.system_package("ipafont")

TODAY = dt.date(2026, 11, 10)


@pytest.fixture
def billing(app, tmp_path):
    app.config["BILLING_SETTINGS"] = BillingSettings(registration_number="T1234567890123", out_dir=tmp_path)
    app.config["BILLING_TODAY"] = TODAY


def close_november(app, engine, session_factory) -> list[int]:
    """Close November as `fsctl billing close` does; the ids of the statements it stored."""
    close_month(
        engine, session_factory, Month(2026, 11), default_prices(), app.config["BILLING_SETTINGS"],
        today=dt.date(2026, 12, 1),
    )  # fmt: skip
    with app.app_context():
        return list(db.session.scalars(db.select(models.Statement.id).order_by(models.Statement.id)))


def add_call(app, tenant_id: int, charge: int) -> None:
    started = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)
    with app.app_context():
        db.session.add(
            models.CallRecord(
                uuid=f"bill-{tenant_id}-{charge}", leg="a", tenant_id=tenant_id, extension="101",
                call_class="mobile", direction="out", caller="101", destination="09011112222",
                remote="09011112222", started_at=started, answered_at=started, duration=600,
                billsec=600, charge_yen=charge,
            )
        )  # fmt: skip
        db.session.commit()


def test_billing_page_and_pdf_are_the_tenants_own(app, admin, billing, engine, session_factory):
    tenant = tenant_of(app, "admin@acme.example")
    add_call(app, tenant.id, 150)
    page = admin.get("/billing/").get_data(as_text=True)
    assert admin.get("/billing/").status_code == 200
    assert 'id="month-to-date"' in page and 'id="forecast"' in page and "今月の見込み額" in page
    assert "150円" in page and "450円" in page  # the call so far, and x 30/10 days
    assert "ご請求はまだありません" in page
    (statement_id,) = close_november(app, engine, session_factory)
    page = admin.get("/billing/").get_data(as_text=True)
    assert f"statement-{statement_id}" in page and "2026-11" in page
    pdf = admin.get(f"/billing/statements/{statement_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    theirs = other.get("/billing/").get_data(as_text=True)
    assert f"statement-{statement_id}" not in theirs and "150円" not in theirs
    assert other.get(f"/billing/statements/{statement_id}.pdf").status_code == 404


def test_tenant_users_do_not_see_billing(app, admin, billing, engine, session_factory):
    admin.post("/users/new", {"extension": "101", "name": "一郎"})
    tenant = tenant_of(app, "admin@acme.example")
    with app.app_context():
        user_id = db.session.scalar(
            db.select(models.User.id).where(
                models.User.tenant_id == tenant.id, models.User.extension == "101"
            )
        )
    admin.post(f"/users/{user_id}/login", {"email": "ichiro@acme.example", "password": PASSWORD})
    # A November call gives November a statement whatever today's date (users added today bill from today).
    add_call(app, tenant.id, 150)
    (statement_id,) = close_november(app, engine, session_factory)
    user = PanelClient(app.test_client())
    user.login("ichiro@acme.example")
    assert user.get("/billing/").status_code in (403, 404)
    assert user.get(f"/billing/statements/{statement_id}.pdf").status_code in (403, 404)
