"""FAX to e-mail in real headless Chromium on a phone (390 px): a number made a fax number with its
address, a received fax listed on the tenant's clock and its PDF opened, then deleted after the
confirmation; Japanese and English.

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fax_helpers import fax_tiff
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from sqlalchemy import select
from test_browser import PHONE, browser, fits_phone, server, shot, sign_in  # noqa: F401 - fixtures used by name
from test_ivr_page import NUMBER, claim

from fsctl import models
from fsctl.fax.pdf import tiff_to_pdf
from webpanel.extensions import db

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"


def test_a_fax_number_and_a_received_fax_on_a_phone(app, server, browser, session_factory, tmp_path):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")
    number_id = claim(app, setup, session_factory)
    pdf = tmp_path / "received.pdf"
    tiff_to_pdf(fax_tiff(tmp_path / "received.tif"), pdf)
    with app.app_context():
        fax = models.FaxMessage(
            tenant_id=tenant_of(app, EMAIL).id, call_uuid="browser-fax", number=NUMBER, sender="0355550101",
            pages=2, success=True, received_at=dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC),
            pdf_path=str(pdf), mail_error="SMTP is not configured (FSCTL_SMTP_HOST): stored, not mailed",
        )  # fmt: skip
        db.session.add(fax)
        db.session.commit()
        fax_id = fax.id

    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/numbers/{number_id}")
    page.check("#fax")
    page.fill("#fax-emails", "soumu@acme.example")
    page.click("#fax-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("#fax-emails")).to_have_value("soumu@acme.example")
    fits_phone(page)
    shot(page, "fax-01-number-phone")

    page.goto(f"{server}/fax/")
    row = page.locator(f"#fax-{fax_id}")
    expect(row).to_contain_text("2026/12/07 18:30")
    expect(row).to_contain_text("メール未送信")
    fits_phone(page)
    shot(page, "fax-02-list-phone")
    response = page.request.get(f"{server}/fax/{fax_id}.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    page.goto(f"{server}/lang/en")
    page.goto(f"{server}/fax/")
    expect(page.locator("h1")).to_have_text("FAX")
    page.locator(f"#fax-{fax_id} button").click()
    page.click("button:has-text('Delete')")
    expect(page.locator("#faxes")).to_contain_text("No faxes yet.")
    fits_phone(page)
    context.close()
    with app.app_context():
        assert db.session.scalar(select(models.FaxMessage.id)) is None
    assert not pdf.exists()
