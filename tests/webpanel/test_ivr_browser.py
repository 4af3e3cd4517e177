"""An IVR menu with two options, made in real headless Chromium (fixtures of test_browser.py).

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from test_browser import browser, server, shot, sign_in  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"


def test_admin_makes_a_menu_with_two_options(app, server, browser):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")
    for extension, name in (("101", "山田 太郎"), ("102", "佐藤 花子")):
        setup.post("/users/new", {"extension": extension, "name": name, "voicemail.enabled": "on"})

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.click("nav.side >> text=IVRメニュー")
    expect(page.locator("h1")).to_contain_text("IVRメニュー")
    page.click("text=IVRメニューを追加")
    page.fill("#ivr-form input[name=name]", "main")
    page.select_option("#ivr-form select[name='options.1']", "user")
    page.fill("#ivr-form input[name='options.1.target']", "101")
    page.select_option("#ivr-form select[name='options.2']", "voicemail")
    page.fill("#ivr-form input[name='options.2.target']", "102")
    page.select_option("#ivr-form select[name=timeout_destination]", "voicemail")
    page.fill("#ivr-form input[name='timeout_destination.target']", "101")
    shot(page, "ivr-01-menu-form")
    page.click("#ivr-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_be_visible()
    row = page.locator("#ivr-main")
    expect(row.locator(".options")).to_contain_text("1 → 内線 101")
    expect(row.locator(".options")).to_contain_text("2 → 102 の留守番電話")
    expect(row).to_contain_text("101 の留守番電話")
    shot(page, "ivr-02-menus")

    # A wrong key destination is shown on its row and nothing changes.
    row.locator("a", has_text="main").click()
    page.select_option("#ivr-form select[name='options.3']", "user")
    page.fill("#ivr-form input[name='options.3.target']", "999")
    page.click("#ivr-form button[type=submit]")
    expect(page.locator(".field-error[data-field='options.3.user']")).to_be_visible()
    shot(page, "ivr-03-menu-error")

    page.click("nav.side >> text=保留音")
    expect(page.locator("#hold-music")).to_contain_text("標準の保留音")
    shot(page, "ivr-04-hold-music")
    context.close()
