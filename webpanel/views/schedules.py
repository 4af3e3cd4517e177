"""Schedules: weekly open periods, Japanese holidays, closures, after-hours announcement and destination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jpholiday
from flask import Blueprint, g, render_template

from fsctl import models
from webpanel.i18n import WEEKDAY_KEYS
from webpanel.security import admin_required
from webpanel.views.common import checkbox, destination_choices, destination_value, parse_destination
from webpanel.views.schedule_pictures import picture
from webpanel.views.sections import ListSection, SectionPages

bp = Blueprint("schedules", __name__, url_prefix="/schedules")
SECTION = ListSection("schedules", models.Schedule, kind="schedule", audit="schedule")
BLANK_ROWS = 2


def upcoming_holidays(today: dt.date | None = None, days: int = 365) -> list[tuple[dt.date, str]]:
    """Japanese national holidays (substitute and citizens' holidays included) for the next year."""
    today = today or dt.date.today()
    return [(day, name) for day, name in jpholiday.between(today, today + dt.timedelta(days=days))]


def _rows(form: Any, prefix: str, keys: tuple[str, ...]) -> list[dict]:
    rows = []
    for n in range(int(form.get(f"{prefix}-count", "0") or 0)):
        row = {key: form.get(f"{prefix}-{n}-{key}", "").strip() for key in keys}
        if prefix == "open":
            row["days"] = [d for d in form.getlist(f"open-{n}-days") if d in WEEKDAY_KEYS]
        if any(row.values()):  # a row left blank is no row
            rows.append(row)
    return rows


def _entry_from_form(form: Any) -> dict:
    entry: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "open": [
            {"days": r["days"], "from": r["from"], "to": r["to"]} for r in _rows(form, "open", ("from", "to"))
        ],
        "holidays_closed": checkbox(form, "holidays_closed"),
        "full_coverage": checkbox(form, "full_coverage"),
        "closures": [
            {"from": r["from"], "to": r["to"], "name": r["name"]}
            for r in _rows(form, "closures", ("from", "to", "name"))
        ],
        "open_destination": parse_destination(form, "open_destination"),
        "closed_destination": parse_destination(form, "closed_destination"),
        "closed_announcement": form.get("closed_announcement", "").strip() or None,
    }
    return entry


def _render(
    doc: dict,
    entry: dict,
    errors: dict,
    other: list[str],
    schedule: models.Schedule | None,
    status: int = 200,
):
    return (
        render_template(
            "schedules/form.html",
            entry=entry,
            errors=errors,
            other_errors=other,
            schedule=schedule,
            choices=destination_choices(doc, allow_schedule=False),
            open_destination=destination_value(entry.get("open_destination")),
            closed_destination=destination_value(entry.get("closed_destination")),
            open_rows=list(entry.get("open", [])) + [{"days": [], "from": "", "to": ""}] * BLANK_ROWS,
            closure_rows=list(entry.get("closures", [])) + [{"from": "", "to": "", "name": ""}] * BLANK_ROWS,
            weekdays=WEEKDAY_KEYS,
            holidays=upcoming_holidays(),
            # The saved schedule's week (not the form's unsaved values): what calls meet now.
            pic=picture(schedule, g.tenant.timezone or "Asia/Tokyo") if schedule is not None else None,
        ),
        status,
    )


@bp.get("/")
@admin_required
def index():
    zone = g.tenant.timezone or "Asia/Tokyo"
    pictures = {s.id: picture(s, zone) for s in g.tenant.schedules}
    return render_template(
        "schedules/index.html",
        schedules=g.tenant.schedules,
        holidays=upcoming_holidays()[:8],
        pictures=pictures,
    )


def _blank() -> dict:
    start = {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}
    return {"open": [start], "holidays_closed": True, "closures": []}


PAGES = SectionPages(
    SECTION, bp, id_arg="schedule_id", entry_from_form=_entry_from_form, render=_render, blank=_blank
)
PAGES.register(admin_required)
