"""The overview's setup checklist: each first step done or linked, gone once all are."""

from __future__ import annotations

import re

from panel_helpers import tenant_of
from test_history_page import add_call
from test_ivr_page import claim
from test_tenant_pages import EMAIL, add_user


def steps(admin) -> dict[str, str]:
    page = admin.get("/").get_data(as_text=True)
    return {key: state for state, key in re.findall(r'<li class="(done|todo)" id="step-(\w+)"', page)}


def test_checklist_follows_the_setup_and_disappears_when_done(app, admin, session_factory):
    assert steps(admin) == {
        "users": "todo",
        "number": "todo",
        "ring_group": "todo",
        "schedule": "todo",
        "test_call": "todo",
    }
    assert 'href="/users/new"' in admin.get("/").get_data(as_text=True)
    add_user(admin, "101")
    claim(app, admin, session_factory)
    admin.post("/ring-groups/new", {"name": "reception", "members": "101", "ring_seconds": "20"})
    assert steps(admin) == {
        "users": "done",
        "number": "done",
        "ring_group": "done",
        "schedule": "todo",
        "test_call": "todo",
    }
    admin.post(
        "/schedules/new",
        {
            "name": "business",
            "open-count": "1",
            "open-0-days": ["mon"],
            "open-0-from": "09:00",
            "open-0-to": "18:00",
        },
    )
    add_call(app, tenant_of(app, EMAIL).id, "first", "101", "internal", "102")
    page = admin.get("/").get_data(as_text=True)
    assert 'id="setup-checklist"' not in page
