"""A number whose calls reach an IVR menu holds the IVR option (500 yen a month), however it was saved."""

from __future__ import annotations

import datetime as dt

from billing_helpers import apply_on, billing_tenant, users
from sqlalchemy import select

from fsctl import db, models
from fsctl.billing.ivr_option import reaches_menu
from fsctl.billing.prices import default_prices
from fsctl.billing.statement import Month, compute_statements

MENU = [{"name": "main", "options": {"1": {"user": "1001"}}}]
NIGHT_MENU = {
    "name": "office",
    "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
    "open_destination": {"user": "1001"},
    "closed_destination": {"ivr": "main"},
}


def held_ivr(session_factory) -> dict[str, bool]:
    with db.session_scope(session_factory) as session:
        rows = session.execute(
            select(models.Number.national, models.Number.ivr_option).where(
                models.Number.tenant_id.is_not(None)
            )
        )
        return {national: option for national, option in rows}


def test_a_number_pointed_at_a_menu_or_a_schedule_with_one_gets_the_option(session_factory):
    doc = billing_tenant(
        users=users(2),
        ivr_menus=MENU,
        schedules=[NIGHT_MENU],
        numbers=[
            {"number": "0312345678", "destination": {"ivr": "main"}},  # as the panel saves it: no flag
            {"number": "0312345679", "destination": {"schedule": "office"}},  # the menu after hours
            {"number": "0312345670", "destination": {"user": "1001"}},
        ],
    )
    apply_on(session_factory, dt.date(2026, 10, 1), doc)
    assert held_ivr(session_factory) == {"0312345670": False, "0312345678": True, "0312345679": True}
    with session_factory() as session:
        (statement,) = compute_statements(session, Month(2026, 11), default_prices()).values()
    assert {line["code"]: line["amount_yen"] for line in statement["lines"]}["option_ivr"] == 1000


def test_pointing_the_number_elsewhere_keeps_an_option_once_ordered(session_factory):
    doc = billing_tenant(
        users=users(2), ivr_menus=MENU, numbers=[{"number": "0312345678", "destination": {"ivr": "main"}}]
    )
    apply_on(session_factory, dt.date(2026, 10, 1), doc)
    doc["numbers"] = [{"number": "0312345678", "destination": {"user": "1001"}, "ivr_option": True}]
    apply_on(session_factory, dt.date(2026, 10, 2), doc)
    assert held_ivr(session_factory) == {"0312345678": True}
    doc["numbers"] = [{"number": "0312345678", "destination": {"user": "1001"}, "ivr_option": False}]
    apply_on(session_factory, dt.date(2026, 10, 3), doc)
    assert held_ivr(session_factory) == {"0312345678": False}  # released when nothing needs it


def test_what_reaches_a_menu():
    schedules = {"office": {"open_destination": ("user", "1001"), "closed_destination": ("ivr", "main")}}
    assert reaches_menu(("ivr", "main"), schedules)
    assert reaches_menu(("schedule", "office"), schedules)
    assert not reaches_menu(("schedule", "gone"), schedules)
    assert not reaches_menu(("user", "1001"), schedules)
    assert not reaches_menu(None, schedules)
