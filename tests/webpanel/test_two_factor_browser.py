"""Two-step verification as a person does it, in real Chromium: set up from the QR page's key,
keep the recovery codes, sign in with a code; the pages fit a phone in both languages."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect
from test_browser import ARTIFACTS, browser, server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.system_package("chromium")
EMAIL = "admin@acme.example"
WORDS = {
    "ja": {"setup": "2段階認証を設定する", "on": "オン", "wrong": "コードが正しくありません。"},
    "en": {"setup": "Set up two-step verification", "on": "On", "wrong": "That code is not right."},
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_set_up_then_sign_in_with_a_code(app, admin, server, browser, lang):  # noqa: F811
    words = WORDS[lang]
    shots = ARTIFACTS / "two-step"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/lang/{lang}")
    page.goto(f"{server}/account")
    page.get_by_role("button", name=words["setup"]).click()
    expect(page.locator("#two-step-qr svg")).to_be_visible()
    secret = page.inner_text("#two-step-secret")
    page.screenshot(path=str(shots / f"{lang}-390-setup.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.fill(
        "#two-step-confirm-form input[name=code]", "000000" if pyotp.TOTP(secret).now() != "000000" else "1"
    )
    page.click("#two-step-confirm-form button[type=submit]")
    expect(page.locator("#error-code")).to_have_text(words["wrong"])
    page.fill("#two-step-confirm-form input[name=code]", pyotp.TOTP(secret).now())
    page.click("#two-step-confirm-form button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(8)
    expect(page.locator("#two-step-state")).to_have_text(words["on"])
    page.screenshot(path=str(shots / f"{lang}-390-recovery-codes.png"), full_page=True)
    recovery = page.locator("#recovery-codes li").first.inner_text()
    context.close()

    # Another browser: the password leads to the code page; a recovery code opens the panel.
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/lang/{lang}")
    sign_in(page, server, EMAIL)
    expect(page).to_have_url(f"{server}/login/code")
    page.screenshot(path=str(shots / f"{lang}-1280-code.png"), full_page=True)
    page.fill("input[name=code]", recovery)
    page.click("#code-form button[type=submit]")
    expect(page).to_have_url(f"{server}/")
    context.close()
