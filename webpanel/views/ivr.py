"""IVR menus ("for sales press 1"): greeting, digit -> destination, retries and the final fallback.

Every save goes through the tenant document (`ivr_menus`), so the routing's own checks apply: an
option pointing at something that does not exist, or an external number the tenant may not dial, is
refused on its row. The IVR is a paid option per number (`numbers.ivr_option`): the list shows which
numbers lead to each menu and whether they have the option.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fsctl import models
from fsctl.routing.hold import HOLD_MUSIC_AUDIO
from fsctl.tenant_file import dest_out
from webpanel.call_flow import FlowBuilder
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.views.common import (
    destination_choices,
    destination_value,
    parse_destination,
    tenant_audio_names,
)
from webpanel.views.ivr_reach import numbers_by_menu
from webpanel.views.numbers import destination_label
from webpanel.views.sections import ListSection, SectionPages

bp = Blueprint("ivr", __name__, url_prefix="/ivr-menus")
SECTION = ListSection("ivr_menus", models.IvrMenu, kind="ivr", audit="ivr_menu")
# In the order of a phone's keypad.
DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
IVR_MONTHLY_YEN = 500


def _entry_from_form(form: Any) -> dict:
    options = {}
    for digit in DIGITS:
        destination = parse_destination(form, f"options.{digit}")
        if destination is not None:
            options[digit] = destination
    return {
        "name": form.get("name", "").strip(),
        "greeting": form.get("greeting", "").strip() or None,
        "timeout_seconds": form.get("timeout_seconds", "").strip() or "5",
        "max_attempts": form.get("max_attempts", "").strip() or "3",
        "options": options,
        "timeout_destination": parse_destination(form, "timeout_destination"),
    }


def greeting_choices(current: str | None, audio: list[str]) -> list[str]:
    """The tenant's uploads (`audio`, but the hold music) as `<name>.wav`, what a greeting names, and
    the current greeting if it is another."""
    choices = [f"{name}.wav" for name in audio if name != HOLD_MUSIC_AUDIO]
    if current and current not in choices:
        choices.insert(0, current)  # a platform sound or a name set by `fsctl apply`: keep it
    return choices


def _render(doc: dict, entry: dict, errors: dict, other: list[str], menu: models.IvrMenu | None, status=200):
    options = entry.get("options") or {}
    audio = tenant_audio_names()
    return (
        render_template(
            "ivr/form.html",
            entry=entry,
            errors=errors,
            other_errors=other,
            menu=menu,
            choices=destination_choices(doc, audio=audio),
            greetings=greeting_choices(entry.get("greeting"), audio),
            option_rows=[(digit, destination_value(options.get(digit))) for digit in DIGITS],
            timeout_destination=destination_value(entry.get("timeout_destination")),
            # The saved menu's diagram (not the form being edited: it shows what calls do now).
            flow=FlowBuilder(doc).menu(menu.name) if menu is not None else None,
        ),
        status,
    )


def _menus() -> list[models.IvrMenu]:
    """The tenant's menus with their options and fallback (for labels), in a few queries."""
    dest = models.Destination
    targets = [dest.user, dest.ring_group, dest.ivr_menu, dest.schedule]
    option_dest = selectinload(models.IvrMenu.options).selectinload(models.IvrOption.destination)
    fallback = selectinload(models.IvrMenu.timeout_destination)
    return list(
        db.session.scalars(
            select(models.IvrMenu)
            .where(models.IvrMenu.tenant_id == g.tenant.id)
            .order_by(models.IvrMenu.name)
            .options(
                *(option_dest.selectinload(t) for t in targets),
                *(fallback.selectinload(t) for t in targets),
            )
        )
    )


def _keypad_order(digit: str) -> int:
    return DIGITS.index(digit)


@bp.get("/")
@admin_required
def index():
    menus = _menus()
    rows = []
    reached = numbers_by_menu(g.tenant.id)
    for menu in menus:
        options = sorted(menu.options, key=lambda o: _keypad_order(o.digit))
        rows.append(
            {
                "menu": menu,
                "options": [(o.digit, destination_label(dest_out(o.destination))) for o in options],
                "fallback": destination_label(dest_out(menu.timeout_destination))
                if menu.timeout_destination
                else None,
                "numbers": [
                    (number, destination_label(via) if via else None)
                    for number, via in reached.get(menu.id, [])
                ],
            }
        )
    return render_template("ivr/index.html", rows=rows, price=IVR_MONTHLY_YEN)


PAGES = SectionPages(
    SECTION,
    bp,
    id_arg="menu_id",
    entry_from_form=_entry_from_form,
    render=_render,
    blank=lambda: {"timeout_seconds": 5, "max_attempts": 3, "options": {}},
)
PAGES.register(admin_required)
