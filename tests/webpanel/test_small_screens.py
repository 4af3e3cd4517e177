"""Every main page at 390 px (a phone) and 1280 px, both languages, in real Chromium.

At 390 px the page never scrolls sideways (document scrollWidth <= 390) and no menu word is broken
per character (each menu entry is one line). Screenshots of every page at both widths and in both
languages go to test-artifacts/webpanel/pages/ (git-ignored) for a reviewer.
"""

from __future__ import annotations

import pytest
from panel_helpers import PASSWORD, make_operator
from playwright.sync_api import Page
from sqlalchemy import select
from test_browser import ARTIFACTS, browser, server, sign_in  # noqa: F401 - fixtures
from test_history_page import add_call
from test_ivr_page import claim, menu_form, with_users
from test_tenant_pages import EMAIL, user_id

from fsctl import models
from webpanel.extensions import db

pytestmark = pytest.mark.system_package("chromium")
PHONE, DESKTOP = 390, 1280
SHOTS = ARTIFACTS / "pages"
USER_EMAIL = "ichiro@acme.example"


def _tenant(app, admin, session_factory) -> dict[str, str]:
    """A tenant with one of everything; returns the admin pages to visit by name."""
    with_users(admin, "101", "102")
    admin.post(
        "/ring-groups/new",
        {"name": "reception", "members": "101, 102", "strategy": "simultaneous", "ring_seconds": "20"},
    )
    admin.post("/ivr-menus/new", menu_form("main"))
    admin.post(
        "/schedules/new",
        {
            "name": "business",
            "open-count": "1",
            "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
            "open-0-from": "09:00",
            "open-0-to": "18:00",
            "open_destination": "ivr",
            "open_destination.target": "main",
            "closed_destination": "voicemail",
            "closed_destination.target": "101",
        },
    )
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "schedule", "destination.target": "business"})
    admin.post(f"/users/{user_id(app, '101')}/login", {"email": USER_EMAIL, "password": PASSWORD})
    with app.app_context():
        tenant_id = db.session.scalar(select(models.Tenant.id))
        ids = {
            "group": db.session.scalar(select(models.RingGroup.id)),
            "schedule": db.session.scalar(select(models.Schedule.id)),
            "menu": db.session.scalar(select(models.IvrMenu.id)),
        }
    add_call(app, tenant_id, "out-101", "101", "out", "09011112222")
    admin.post(
        "/conference-rooms/new", {"number": "800", "name": "大会議室", "pin": "4321", "max_members": "5"}
    )
    admin.post(
        "/phonebook/new", {"name": "株式会社アクメ商事", "numbers": "03-9876-5432", "company": "アクメ商事"}
    )
    admin.post(
        "/call-queues/new",
        {
            "number": "600",
            "name": "サポート",
            "agents": "101",
            "strategy": "ring_all",
            "max_wait_seconds": "60",
        },
    )
    with app.app_context():
        contact = db.session.scalar(select(models.PhonebookEntry.id))
    return {
        "overview": "/",
        "users": "/users/",
        "user-new": "/users/new",
        "users-import": "/users/import",
        "user-edit": f"/users/{user_id(app, '101')}",
        "numbers": "/numbers/",
        "number-edit": f"/numbers/{number_id}",
        "numbers-available": "/numbers/available",
        "ring-groups": "/ring-groups/",
        "ring-group-edit": f"/ring-groups/{ids['group']}",
        "schedules": "/schedules/",
        "schedule-edit": f"/schedules/{ids['schedule']}",
        "ivr-menus": "/ivr-menus/",
        "ivr-edit": f"/ivr-menus/{ids['menu']}",
        "hold-music": "/hold-music/",
        "conference-rooms": "/conference-rooms/",
        "conference-room-edit": "/conference-rooms/800",
        "phonebook": "/phonebook/",
        "phonebook-edit": f"/phonebook/{contact}",
        "phonebook-import": "/phonebook/import",
        "call-queues": "/call-queues/",
        "call-queue-edit": "/call-queues/600",
        "settings": "/settings",
        "what-if": "/what-if/?from=&to=0312345000&day=2026-12-07&time=20:00",
        "live": "/live/",
        "voicemail": "/voicemail/",
        "history": "/history/",
        "gateways": "/gateways/",
        "billing": "/billing/",
        "security": "/security/",
        "audit": "/audit",
        "administrators": "/administrators/",
        "api-tokens": "/api-tokens",
        "account": "/account",
        "application": "/application",
    }


USER_PAGES = {"me": "/users/me", "live": "/live/", "voicemail": "/voicemail/", "history": "/history/"}
OPERATOR_PAGES = {
    "dashboard": "/operator/",
    "tenants": "/operator/tenants",
    "tenant": "/operator/tenants/1",
    "inventory": "/operator/numbers",
    "security": "/operator/security",
    "audit": "/operator/audit",
    "settings": "/operator/settings",
}
PUBLIC_PAGES = {"login": "/login", "signup": "/signup", "password-reset": "/password-reset"}


def _check(page: Page, base: str, role: str, pages: dict[str, str], lang: str, width: int) -> list[str]:
    problems = []
    for name, path in pages.items():
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (
            f"{role} {name}: {response and response.status}"
        )
        page.screenshot(path=str(SHOTS / f"{lang}-{width}-{role}-{name}.png"), full_page=True)
        if width != PHONE:
            continue
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > PHONE:
            problems.append(f"{lang} {role} {name}: {scroll} px wide")
        # One line per menu entry: no word broken per character.
        tall = page.evaluate(
            """() => [...document.querySelectorAll('nav.side a')]
                 .filter(a => a.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(a).lineHeight))
                 .map(a => a.textContent)"""
        )
        if tall:
            problems.append(f"{lang} {role} {name}: menu entries wrap: {tall}")
    return problems


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_fits_a_phone(app, admin, server, browser, session_factory, lang):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    admin_pages = _tenant(app, admin, session_factory)
    operator = make_operator(app)
    problems: list[str] = []
    for width in (PHONE, DESKTOP):
        for role, email, pages in (
            ("admin", EMAIL, admin_pages),
            ("user", USER_EMAIL, USER_PAGES),
            ("operator", operator, OPERATOR_PAGES),
            ("public", None, PUBLIC_PAGES),
        ):
            context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 844})
            page = context.new_page()
            if email:
                sign_in(page, server, email)
            page.goto(f"{server}/lang/{lang}")
            problems += _check(page, server, role, pages, lang, width)
            context.close()
    assert not problems, "\n".join(problems)
