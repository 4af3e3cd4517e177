"""Main flows in real headless Chromium (Debian's, driven by playwright; `make test` installs it).

Screenshots of the main pages go to test-artifacts/webpanel/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from panel_helpers import PASSWORD, make_operator
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

pytestmark = pytest.mark.system_package("chromium")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webpanel"
MONDAY = "2026-12-07"  # an ordinary Monday, no holiday


@pytest.fixture
def server(app):
    """The panel on 127.0.0.1, a free port, in a thread; stopped after the test."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# A phone's screen (iPhone 12-15): pages must fit it without scrolling sideways.
PHONE = {"width": 390, "height": 844}


def fits_phone(page: Page) -> None:
    """The page is no wider than the phone's screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def trace_text(page: Page, base: str, number: str, time: str) -> str:
    page.goto(f"{base}/what-if/?from=&to={number}&day={MONDAY}&time={time}")
    return page.inner_text("#trace-result")


def test_signup_user_number_schedule_and_trace(app, server, browser):
    base = server
    customer = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = customer.new_page()

    # Sign-up -> trial, status in the header.
    page.goto(f"{base}/signup")
    shot(page, "01-signup")
    page.fill("input[name=company]", "Acme Trading")
    page.fill("input[name=contact_name]", "山田 太郎")
    page.fill("input[name=phone]", "03-1234-5678")
    page.fill("input[name=email]", "admin@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#tenant-status")).to_contain_text("トライアル中: 残り30日")
    page.click("text=本申込みをする")
    page.fill("input[name=representative]", "山田 太郎")
    page.fill("input[name=postal_code]", "１００-０００１")  # full-width, as a Japanese IME types it
    page.fill("input[name=address]", "東京都千代田区千代田1-1")
    page.fill("input[name=phone]", "03-1234-5678")
    page.click("#application-form button[type=submit]")
    expect(page.locator("#form-download")).to_be_visible()
    shot(page, "02-application")
    page.goto(f"{base}/")
    expect(page.locator("#application-state")).to_contain_text("お申込みを受け付けました")
    shot(page, "02-home-trial")

    # The operator activates the tenant and adds numbers to the inventory.
    make_operator(app)
    ops = browser.new_context(locale="ja-JP").new_page()
    sign_in(ops, base, "ops@kumo.example")
    expect(ops.locator("#waiting-waiting_documents strong")).to_have_text("1")
    ops.click("#waiting-waiting_documents a")
    ops.click("text=Acme Trading")
    ops.select_option("select[name=status]", "active")
    ops.click("#tenant-form button")
    expect(ops.locator(".flash.ok")).to_be_visible()
    shot(ops, "03-operator-tenant")
    ops.goto(f"{base}/operator/numbers")
    ops.fill("input[name=range]", "0312345000-0312345009")
    ops.click("button:has-text('追加')")
    expect(ops.locator(".flash.ok")).to_contain_text("10 件")
    shot(ops, "04-operator-numbers")

    # Add users: the credentials page shows the password once, with a QR code.
    page.goto(f"{base}/users/new")
    page.fill("input[name=extension]", "0101")  # invalid: starts with 0
    page.fill("input[name=name]", "山田 太郎")
    page.click("button:has-text('ユーザーを追加')")
    expect(page.locator(".field-error[data-field=extension]")).to_contain_text("0以外で始まる")
    shot(page, "05-user-form-error")
    page.fill("input[name=extension]", "101")
    page.click("button:has-text('ユーザーを追加')")
    expect(page.locator("#sip-password")).to_be_visible()
    assert len(page.inner_text("#sip-password")) >= 20
    expect(page.locator("figure.qr svg")).to_be_visible()
    shot(page, "06-credentials")
    page.goto(f"{base}/users/new")
    page.fill("input[name=extension]", "102")
    page.fill("input[name=name]", "佐藤 花子")
    page.click("button:has-text('ユーザーを追加')")
    page.goto(f"{base}/users/")
    expect(page.locator("table.list")).to_contain_text("佐藤 花子")
    shot(page, "07-users")

    # Take a number and send it to extension 101.
    page.goto(f"{base}/numbers/available")
    page.locator("tr", has_text="0312345000").locator("button").click()
    page.locator("#number-0312345000").locator("text=変更").click()
    page.select_option("#number-form select[name=destination]", "user")
    page.fill("#number-form input[name='destination.target']", "101")
    page.click("#number-form button[type=submit]")
    expect(page.locator("#number-0312345000 .destination")).to_contain_text("内線 101")
    shot(page, "08-numbers")
    evening_before = trace_text(page, base, "0312345000", "20:00")
    assert "101 (山田 太郎) を呼び出します" in evening_before and "時間外" not in evening_before

    # A business-hours schedule: the same call at 20:00 now goes to voicemail, at 10:00 still to 101.
    page.goto(f"{base}/schedules/new")
    page.fill("input[name=name]", "business")
    page.select_option("select[name=open_destination]", "user")
    page.fill("input[name='open_destination.target']", "101")
    page.select_option("select[name=closed_destination]", "voicemail")
    page.fill("input[name='closed_destination.target']", "101")
    shot(page, "09-schedule-form")
    page.click("#schedule-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_be_visible()
    page.goto(f"{base}/numbers/")
    page.locator("#number-0312345000").locator("text=変更").click()
    page.select_option("#number-form select[name=destination]", "schedule")
    page.fill("#number-form input[name='destination.target']", "business")
    page.click("#number-form button[type=submit]")
    expect(page.locator("#number-0312345000 .destination")).to_contain_text("スケジュール business")
    evening_after = trace_text(page, base, "0312345000", "20:00")
    shot(page, "10-what-if")
    morning = trace_text(page, base, "0312345000", "10:00")
    assert "スケジュール business — 時間外" in evening_after and "を呼び出します" not in evening_after
    assert "時間外アナウンス" in evening_after
    assert "スケジュール business — 営業時間内" in morning and "101 (山田 太郎) を呼び出します" in morning

    # English on request.
    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("What happens if")
    expect(page.locator("#tenant-status")).to_contain_text("Active")
    shot(page, "11-what-if-english")
    customer.close()


def test_password_reset_by_e_mail(app, server, browser):
    """Forgot the password: ask for a link on the sign-in page, open the mailed link, choose, sign in."""
    import re

    from billing_smtp import SmtpSink

    from fsctl.media.settings import SmtpSettings

    sink = SmtpSink().start()
    try:
        app.config["SMTP_SETTINGS"] = SmtpSettings(
            host="127.0.0.1", port=sink.port, sender="panel@kumo.example"
        )
        app.config["WEBPANEL_BASE_URL"] = server
        email = make_operator(app, "forgetful@kumo.example")
        page = browser.new_context(locale="ja-JP").new_page()
        page.goto(f"{server}/login")
        page.click("#forgot-password")
        page.fill("input[name=email]", email)
        page.click("button[type=submit]")
        expect(page.locator("#reset-sent")).to_contain_text("30分間、1回だけ")
        shot(page, "20-password-reset-sent")
        body = sink.messages[-1].message.get_body(("plain",)).get_content()
        link = re.search(re.escape(server) + r"/password-reset/\S+", body).group(0)
        page.goto(link)
        page.fill("input[name=new]", "short")
        page.evaluate("document.querySelector('input[name=new]').removeAttribute('minlength')")
        page.click("#reset-form button[type=submit]")
        expect(page.locator(".field-error[data-field=new]")).to_contain_text("10文字以上")
        page.fill("input[name=new]", "Fresh-password-2026")
        page.click("#reset-form button[type=submit]")
        expect(page.locator(".flash.ok")).to_contain_text("新しいパスワードでサインイン")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "Fresh-password-2026")
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/operator/$"))
        page.goto(link)
        expect(page.locator("#reset-invalid")).to_be_visible()
    finally:
        sink.stop()
