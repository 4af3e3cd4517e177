"""Conference rooms and the phonebook in real headless Chromium on a phone (390 px): a room added with
its PIN, a contact added and found, a CSV previewed line by line then imported; Japanese and English.

Screenshots go to test-artifacts/webpanel/ (git-ignored) beside the main flows' ones.
"""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of
from playwright.sync_api import expect
from test_browser import PHONE, browser, fits_phone, server, shot, sign_in  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.system_package("chromium")

EMAIL = "admin@acme.example"


def test_a_room_and_contacts_on_a_phone(app, server, browser, tmp_path):  # noqa: F811
    setup = PanelClient(app.test_client())
    signup(setup, email=EMAIL)
    set_status(app, tenant_of(app, EMAIL).domain, "active")

    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/conference-rooms/")
    page.click("text=会議室を追加")
    page.fill("input[name=number]", "800")
    page.fill("input[name=name]", "大会議室")
    page.fill("input[name=pin]", "12")
    page.click("#room-form button[type=submit]")
    expect(page.locator(".field-error[data-field='pin']")).to_be_visible()
    fits_phone(page)
    page.fill("input[name=pin]", "4321")
    page.click("#room-form button[type=submit]")
    expect(page.locator("#rooms")).to_contain_text("大会議室")
    fits_phone(page)
    shot(page, "rooms-01-list-phone")

    page.goto(f"{server}/phonebook/")
    page.click("text=連絡先を追加")
    page.fill("input[name=name]", "株式会社アクメ商事")
    page.fill("input[name=numbers]", "03-9876-5432")
    page.click("#contact-form button[type=submit]")
    expect(page.locator("#phonebook")).to_contain_text("0398765432")
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("名前,電話番号\n佐藤,03-1111-2222\n重複,0398765432\n", encoding="utf-8")
    page.click("text=CSV から取り込む")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#row-3")).to_contain_text("すでに別の連絡先にあります")
    fits_phone(page)
    shot(page, "phonebook-01-preview-phone")
    csv_file.write_text("名前,電話番号\n佐藤,03-1111-2222\n", encoding="utf-8")
    page.goto(f"{server}/phonebook/import")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#preview-ok")).to_be_visible()
    page.click("text=1 件の連絡先を追加")
    expect(page.locator(".flash.ok")).to_contain_text("1 件の連絡先を追加しました。")

    page.goto(f"{server}/lang/en")
    page.goto(f"{server}/phonebook/?q=1111")
    expect(page.locator("#phonebook")).to_contain_text("佐藤")
    expect(page.locator("#phonebook")).not_to_contain_text("アクメ")
    expect(page.locator("h1")).to_have_text("Phonebook")
    fits_phone(page)
    shot(page, "phonebook-02-search-english")
    context.close()
