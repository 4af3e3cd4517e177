"""The caller screening page in real headless Chromium (fixtures of test_browser.py), at 390 px wide:
a caller blocked and removed, 非通知拒否 ticked for a user, in Japanese and in English.

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from test_browser import browser, server, shot, sign_in  # noqa: F401 - fixtures used by name
from test_ivr_page import with_users

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"


def test_admin_blocks_a_caller_and_refuses_withheld_calls_on_a_phone(app, server, browser):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")
    with_users(setup, "101")

    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/screening/")
    expect(page.locator("h1")).to_have_text("着信拒否")
    page.fill("#block-add input[name=caller]", "03123*")
    page.select_option("#block-add select[name=action]", "reject")
    page.click("#block-add button")
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("#blocklist")).to_contain_text("03123*")
    expect(page.locator("#blocklist")).to_contain_text("すぐに拒否")
    # Nothing wider than the phone's screen but the tables, which scroll inside themselves.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "screening-01-blocklist-390")

    page.check("input[name='users.101.withheld']")
    page.click("#anonymous button")
    expect(page.locator("input[name='users.101.withheld']")).to_be_checked()

    page.fill("#block-add input[name=caller]", "abc")
    page.click("#block-add button")
    expect(page.locator(".field-error[data-field='blocklist[1].caller']")).to_contain_text("番号")

    page.goto(f"{server}/lang/en")
    page.goto(f"{server}/screening/")
    page.locator("#blocklist button", has_text="Remove").click()
    expect(page.locator("#blocklist")).to_contain_text("No caller is blocked.")
    shot(page, "screening-02-english-390")
    context.close()
