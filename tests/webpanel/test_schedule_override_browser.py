"""臨時休業 / 臨時営業 pressed in real headless Chromium (fixtures of test_browser.py): the banner
appears, the badge turns, ending it brings the buttons back; in Japanese and in English.

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from test_browser import browser, server, shot, sign_in  # noqa: F401 - fixtures used by name
from test_schedule_week import business

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"
ALL_DAY = {
    "name": "business",
    "open-count": "1",
    "open-0-days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "open-0-from": "00:00",
    "open-0-to": "24:00",
    "holidays_closed": "",  # open on holidays too: the badge is "open" whatever today is
}


def test_admin_closes_for_the_day_then_ends_it(app, server, browser):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")
    business(setup, **ALL_DAY)  # open around the clock: the badge says open until the override

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.click("nav.side >> text=スケジュール")
    page.locator("h2 a", has_text="business").click()
    expect(page.locator("#week .badge")).to_have_attribute("data-open", "yes")
    expect(page.locator("#override")).to_contain_text("*211")
    shot(page, "override-01-buttons")

    page.check("#override-no-end")
    page.click("#override-closed")
    expect(page.locator(".flash.ok")).to_contain_text("臨時休業にしました（解除するまで）")
    banner = page.locator(".override-banner")
    expect(banner).to_have_attribute("data-override", "closed")
    expect(banner).to_contain_text("臨時休業中")
    expect(page.locator("#week .badge")).to_have_attribute("data-open", "no")
    expect(page.locator("#override-closed")).to_have_count(0)
    shot(page, "override-02-closed-banner")

    page.click("#override-end")
    expect(page.locator(".flash.ok")).to_contain_text("臨時切り替えを解除しました")
    expect(page.locator("#week .badge")).to_have_attribute("data-open", "yes")
    expect(page.locator("#override-closed")).to_be_visible()

    # English: 臨時営業 with a time typed in the picker; a time already past is refused on its field.
    page.goto(f"{server}/lang/en")
    page.click("nav.side >> text=Schedules")
    page.locator("h2 a", has_text="business").click()
    page.fill("#override-until", "2020-01-01T10:00")
    page.click("#override-open")
    expect(page.locator(".field-error[data-field='until']")).to_contain_text("must be later than now")
    page.fill("#override-until", "2099-12-31T18:30")
    page.click("#override-open")
    expect(page.locator(".override-banner")).to_contain_text("Override active: open until")
    expect(page.locator(".override-banner")).to_contain_text("2099/12/31 18:30")
    shot(page, "override-03-open-english")
    context.close()
