"""The employee's page in real Chromium at 390 px (a phone), both languages: the do not disturb switch
works by touch, the page never scrolls sideways, and only the employee's own extension is shown."""

from __future__ import annotations

import pytest
from panel_helpers import PASSWORD
from test_browser import ARTIFACTS, browser, server, sign_in  # noqa: F401 - fixtures
from test_do_not_disturb_pages import _dnd
from test_tenant_pages import add_user, user_id

pytestmark = pytest.mark.system_package("chromium")
EMPLOYEE = "jiro@acme.example"


@pytest.mark.parametrize(
    ("lang", "turn_on", "turn_off", "on"),
    [
        ("ja", "おやすみモードをオンにする", "おやすみモードをオフにする", "オン"),
        ("en", "Turn do not disturb on", "Turn do not disturb off", "On"),
    ],
)
def test_employee_turns_do_not_disturb_on_and_off_on_a_phone(
    app,
    admin,
    server,  # noqa: F811
    browser,  # noqa: F811
    lang,
    turn_on,
    turn_off,
    on,
):
    add_user(admin, "101", name="山田 次郎")
    add_user(admin, "102", name="鈴木 花子", **{"voicemail.email": "hanako@acme.example"})
    admin.post(f"/users/{user_id(app, '101')}/login", {"email": EMPLOYEE, "password": PASSWORD})
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, server, EMPLOYEE)
    page.goto(f"{server}/lang/{lang}")
    page.goto(f"{server}/users/me")
    assert "101" in page.inner_text("#my-numbers")
    assert "hanako@acme.example" not in page.content()
    page.get_by_role("button", name=turn_on).click()
    page.wait_for_selector(f"#dnd-toggle:has-text('{turn_off}')")
    assert page.inner_text("#dnd-state") == on
    assert _dnd(app, "101") is True and _dnd(app, "102") is False
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / f"employee-dnd-{lang}-390.png"), full_page=True)
    page.get_by_role("button", name=turn_off).click()
    page.wait_for_selector(f"#dnd-toggle:has-text('{turn_on}')")
    assert _dnd(app, "101") is False
    context.close()
