"""The panel in real Chromium, both languages: confirmations, refusals in words, small screens, labels.

Screenshots go to test-artifacts/webpanel/ (git-ignored) for a reviewer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from panel_helpers import tenant_of
from playwright.sync_api import Page, expect
from test_browser import browser, server, shot, sign_in  # noqa: F401 - fixtures
from test_history_page import add_call
from test_ivr_page import claim
from test_tenant_pages import EMAIL, add_user

pytestmark = pytest.mark.system_package("chromium")
TOLL_FREE = "0120123456"


def signed_in(browser, base: str, lang: str, width: int = 1280) -> Page:  # noqa: F811
    context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, EMAIL)
    page.goto(f"{base}/lang/{lang}")
    return page


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_release_and_remove_ask_first_in_the_browser(app, admin, server, browser, session_factory, lang):  # noqa: F811
    add_user(admin, "101")
    add_user(admin, "102", name="佐藤 花子")
    admin.post("/ring-groups/new", {"name": "reception", "members": "101, 102", "ring_seconds": "20"})
    number_id = claim(app, admin, session_factory, TOLL_FREE)
    page = signed_in(browser, server, lang)

    page.goto(f"{server}/numbers/{number_id}")
    page.click("button.danger")  # "Release": no JavaScript involved, the server asks
    fee = "解約手数料 2,000円" if lang == "ja" else "cancellation fee of ¥2,000"
    expect(page.locator("#confirm")).to_contain_text(fee)
    shot(page, f"18-confirm-release-{lang}")
    page.click("#confirm button.danger")
    expect(page.locator(".flash.ok")).to_contain_text(TOLL_FREE)

    # Removing 102 is refused while the ring group needs it: said in words, with a link to fix it.
    page.goto(f"{server}/users/")
    page.click("text=102")
    page.click("form button.danger")
    page.click("#confirm button.danger")
    refusal = "着信グループ reception の「メンバー」" if lang == "ja" else "Ring group reception, Members"
    expect(page.locator(".flash.error")).to_contain_text(refusal)
    shot(page, f"18-refusal-in-words-{lang}")
    page.locator(".flash.error a").click()
    expect(page.locator("input[name=name]")).to_have_value("reception")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_forward_that_can_never_work_is_refused_in_the_browser(app, admin, server, browser, lang):  # noqa: F811
    add_user(admin, "101")
    page = signed_in(browser, server, lang)
    page.goto(f"{server}/users/")
    page.click("text=101")
    page.select_option("select[name='forward.always']", "external")
    page.fill("input[name='forward.always.target']", "01012025550123")
    page.click("#user-form button[type=submit]")
    why = "国際電話が無効です" if lang == "ja" else "international calls are off"
    expect(page.locator(".field-error[data-field='forward.always.external']")).to_contain_text(why)
    shot(page, f"18-forward-refused-{lang}")


@pytest.mark.parametrize(
    ("lang", "header"), [("ja", "開始日時 (Asia/Tokyo),発着信"), ("en", "Started (Asia/Tokyo),Direction")]
)
def test_call_history_csv_downloads_for_excel(app, admin, server, browser, lang, header):  # noqa: F811
    add_call(app, tenant_of(app, EMAIL).id, "out-101", "101", "out", "09011112222")
    page = signed_in(browser, server, lang)
    page.goto(f"{server}/history/")
    with page.expect_download() as info:
        page.click("a[href*='calls.csv']")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Japanese Excel needs
    text = data.decode("utf-8-sig")
    assert text.startswith(header) and "2026/11/20 10:00:00" in text


@pytest.mark.parametrize(("lang", "fill_in"), [("ja", "入力してください。"), ("en", "Please fill this in.")])
def test_signup_shows_every_error_at_once(app, server, browser, lang, fill_in):  # noqa: F811
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(f"{server}/lang/{lang}")
    page.goto(f"{server}/signup")
    page.fill("input[name=company]", "Acme")
    page.fill("input[name=contact_name]", " ")  # blank after trimming: the browser lets it through
    page.fill("input[name=phone]", "03-abc")
    page.fill("input[name=email]", "a@acme.example")
    page.fill("input[name=password]", "onlyletterspassword")
    page.click("button[type=submit]")
    expect(page.locator(".field-error[data-field=contact_name]")).to_have_text(fill_in)
    expect(page.locator(".field-error[data-field=phone]")).to_be_visible()
    expect(page.locator(".field-error[data-field=password]")).to_be_visible()
    assert page.locator("#error-summary li").count() == 3
    shot(page, f"18-signup-errors-{lang}")


@pytest.mark.parametrize(("lang", "talking"), [("ja", "通話中"), ("en", "Talking")])
def test_the_live_view_refreshes_by_itself(app, admin, server, browser, lang, talking):  # noqa: F811
    import datetime as dt

    from sqlalchemy import insert

    from fsctl.esl.state import CALL
    from webpanel.extensions import db

    app.config["LIVE_REFRESH_SECONDS"] = 1
    add_user(admin, "101")
    page = signed_in(browser, server, lang)
    page.goto(f"{server}/live/")
    expect(page.locator("#presence-101")).not_to_contain_text(talking)
    # A call starts after the page loaded: it appears without a reload, and its duration counts up.
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            insert(CALL).values(
                uuid="live-1", tenant_id=tenant_of(app, EMAIL).id, extension="101", destination="0312345678",
                state="answered", direction="outbound", started_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5),
            )
        )  # fmt: skip
    expect(page.locator("#presence-101")).to_contain_text(talking, timeout=5000)
    expect(page.locator("#call-live-1 .duration")).to_have_text(re.compile(r"0:0[5-9]|0:1\d"))
    first = page.inner_text("#call-live-1 .duration")
    page.wait_for_timeout(2100)
    assert page.inner_text("#call-live-1 .duration") != first
    shot(page, f"18-live-{lang}")


@pytest.mark.parametrize(
    ("lang", "badge"), [("ja", re.compile("現在 (営業中|時間外)")), ("en", re.compile("(Open|Closed) now"))]
)
def test_schedules_show_their_week_and_whether_open_now(app, admin, server, browser, lang, badge):  # noqa: F811
    from test_schedule_week import business

    business(admin)
    page = signed_in(browser, server, lang)
    page.goto(f"{server}/schedules/")
    expect(page.locator("#week-business .now-badge .badge")).to_have_text(badge)
    assert page.locator("#week-business svg.day-bar").count() == 7
    assert page.locator("#week-business svg .now").count() == 1  # a marker on today's row
    shot(page, f"18-schedule-week-{lang}")


@pytest.mark.parametrize(
    ("lang", "ok"), [("ja", "2 行すべて追加できます。"), ("en", "All 2 lines can be added.")]
)
def test_users_are_imported_from_csv_after_a_preview(app, admin, server, browser, tmp_path, lang, ok):  # noqa: F811
    csv_file = tmp_path / "users.csv"
    csv_file.write_text("内線番号,名前\n201,営業 一郎\n202,営業 二郎\n", encoding="utf-8")
    page = signed_in(browser, server, lang)
    page.goto(f"{server}/users/")
    page.click("a[href='/users/import']")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#preview-ok")).to_have_text(ok)
    shot(page, f"18-import-preview-{lang}")
    page.click("form.card button[type=submit]")
    expect(page.locator("#sheet .sip-password")).to_have_count(2)
