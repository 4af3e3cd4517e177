"""Accessibility in real Chromium: every field labelled, an error summary at the top
of a refused form, WCAG AA contrast of the panel's colours, a skip link to the content."""

from __future__ import annotations

import pytest
from panel_helpers import make_operator
from playwright.sync_api import expect
from test_browser import browser, server, sign_in  # noqa: F401 - fixtures
from test_small_screens import OPERATOR_PAGES, PUBLIC_PAGES, USER_EMAIL, USER_PAGES, _tenant
from test_tenant_pages import EMAIL

pytestmark = pytest.mark.system_package("chromium")

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 60))"""

ORPHAN_LABELS = """() => [...document.querySelectorAll('label')]
  .filter(l => !l.control)
  .map(l => l.textContent.trim().slice(0, 40))"""


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_field_has_a_label_and_no_label_is_orphaned(app, admin, server, browser, session_factory, lang):  # noqa: F811
    admin_pages = _tenant(app, admin, session_factory)
    operator = make_operator(app)
    problems = []
    for role, email, pages in (
        ("admin", EMAIL, admin_pages),
        ("user", USER_EMAIL, USER_PAGES),
        ("operator", operator, OPERATOR_PAGES),
        ("public", None, PUBLIC_PAGES),
    ):
        context = browser.new_context(locale="ja-JP")
        page = context.new_page()
        if email:
            sign_in(page, server, email)
        page.goto(f"{server}/lang/{lang}")
        for name, path in pages.items():
            page.goto(f"{server}{path}")
            if unlabelled := page.evaluate(UNLABELLED):
                problems.append(f"{role} {name}: no label for {unlabelled}")
            if orphans := page.evaluate(ORPHAN_LABELS):
                problems.append(f"{role} {name}: labels without a field: {orphans}")
        context.close()
    assert not problems, "\n".join(problems)


CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = el => {  // the first opaque background behind el
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const visible = el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden';
  const bad = [];
  for (const a of document.querySelectorAll('main a, nav a, header a')) {
    if (!visible(a)) continue;
    const r = ratio(rgb(getComputedStyle(a).color), background(a));
    if (r < 4.5) bad.push(`link "${a.textContent.trim().slice(0, 30)}" ${r.toFixed(2)}:1`);
  }
  for (const el of document.querySelectorAll('main p, main td, main th, main label, main li, main dt, main dd')) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const r = ratio(rgb(getComputedStyle(el).color), background(el));
    if (r < 4.5) bad.push(`text "${el.textContent.trim().slice(0, 30)}" ${r.toFixed(2)}:1`);
  }
  for (const el of document.querySelectorAll('input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea')) {
    if (!visible(el)) continue;
    const border = rgb(getComputedStyle(el).borderTopColor);
    const r = Math.min(ratio(border, background(el)), ratio(border, background(el.parentElement)));
    if (r < 3) bad.push(`border of ${el.name} ${r.toFixed(2)}:1`);
  }
  return bad;
}"""


def test_colours_meet_wcag_aa(app, admin, server, browser, session_factory):  # noqa: F811
    """Links and text 4.5:1, input borders 3:1 against what is behind them (computed in Chromium)."""
    admin_pages = _tenant(app, admin, session_factory)
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in(page, server, EMAIL)
    problems = []
    for name in ("overview", "users", "user-edit", "schedule-edit", "what-if", "history", "settings"):
        page.goto(f"{server}{admin_pages[name]}")
        problems += [f"{name}: {p}" for p in page.evaluate(CONTRAST)]
    page.goto(f"{server}/users/new")
    page.fill("input[name=extension]", "0101")
    page.fill("input[name=name]", "山田 太郎")
    page.click("#user-form button[type=submit]")
    problems += [f"refused form: {p}" for p in page.evaluate(CONTRAST)]
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.mark.parametrize(
    ("lang", "heading", "entry"),
    [
        ("ja", "保存されていません", "内線番号: 0以外で始まる"),
        ("en", "Nothing was saved", "Extension: "),
    ],
)
def test_a_refused_form_starts_with_a_summary(app, admin, server, browser, lang, heading, entry):  # noqa: F811
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/lang/{lang}")
    page.goto(f"{server}/users/new")
    page.fill("input[name=extension]", "0101")
    page.fill("input[name=name]", "山田 太郎")
    page.fill("input[name='voicemail.pin']", "12")
    page.click("#user-form button[type=submit]")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text(heading)
    expect(summary).to_contain_text(entry)
    assert summary.locator("li").count() == 2  # every problem at once
    # The summary comes before the form, and each entry leads to the message beside its field.
    assert page.evaluate(
        "document.getElementById('error-summary').compareDocumentPosition("
        "document.getElementById('user-form')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    summary.locator("a").first.click()
    assert page.evaluate("location.hash") == "#error-extension"


def test_the_skip_link_is_the_first_tab_stop_and_leads_to_the_content(app, admin, server, browser):  # noqa: F811
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/users/new")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "本文へ移動"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    # From the content, the first Tab reaches the form's first field, not the 17 menu entries.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "extension"


def test_destination_pickers_are_named_by_their_labels(app, admin, server, browser):  # noqa: F811
    from test_tenant_pages import add_user

    add_user(admin, "101")
    page = browser.new_context(locale="ja-JP").new_page()
    sign_in(page, server, EMAIL)
    page.goto(f"{server}/users/new")
    # Accessible names as a screen reader announces them (the visible label, not "Kind"/"Target" alone).
    picker = page.get_by_role("combobox", name="常に転送", exact=True)
    expect(picker).to_have_attribute("name", "forward.always")
    target = page.get_by_role("combobox", name="常に転送 宛先", exact=True)
    expect(target).to_have_attribute("name", "forward.always.target")
