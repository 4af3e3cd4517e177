"""Call queues in real headless Chromium on a phone (390 px): a queue added with its agents and an
overflow (a wrong maximum wait refused on its field first), an agent logged in from the list; Japanese
and English.

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from test_browser import browser, server, shot, sign_in  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"
PHONE = {"width": 390, "height": 844}


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_queue_and_its_agents_on_a_phone(app, server, browser):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")
    for extension in ("101", "102"):
        setup.post(
            "/users/new", {"extension": extension, "name": f"担当 {extension}", "voicemail.enabled": "on"}
        )

    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/call-queues/")
    page.click("text=着信キューを追加")
    page.fill("input[name=number]", "600")
    page.fill("input[name=name]", "サポート")
    page.fill("input[name=agents]", "101, 102")
    page.select_option("select[name=strategy]", "ring_all")
    page.fill("input[name=max_wait_seconds]", "5")
    page.select_option("select[name=overflow]", "voicemail")
    page.fill("input[name='overflow.target']", "101")
    page.click("#queue-form button[type=submit]")
    expect(page.locator(".field-error[data-field='max_wait_seconds']")).to_be_visible()
    _fits(page)
    page.fill("input[name=max_wait_seconds]", "60")
    page.click("#queue-form button[type=submit]")
    expect(page.locator("#queues")).to_contain_text("全担当者を同時に")
    expect(page.locator("#agents")).to_contain_text("ログアウト")
    page.locator("#agents tr", has_text="担当 101").locator("button").click()
    expect(page.locator("#agents tr", has_text="担当 101")).to_contain_text("ログイン中")
    _fits(page)
    shot(page, "queues-01-list-phone")

    page.goto(f"{server}/lang/en")
    page.goto(f"{server}/call-queues/")
    expect(page.locator("h1")).to_have_text("Call queues")
    expect(page.locator("#queue-callers")).to_contain_text("Nobody is waiting.")
    _fits(page)
    shot(page, "queues-02-list-english")
    context.close()
