"""Schedules: weekly open periods, Japanese holidays, closures, after-hours announcement and destination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jpholiday
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from fsctl import models
from fsctl.numbering import default_plan
from webpanel.error_words import flash_problems
from webpanel.i18n import WEEKDAY_KEYS
from webpanel.schedule_override import DEFAULT, OverrideInputError, override_entry, set_override
from webpanel.security import admin_required
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor, checkbox, destination_choices, destination_value, parse_destination
from webpanel.views.schedule_pictures import picture, wall_clock
from webpanel.views.sections import ListSection, SectionPages

bp = Blueprint("schedules", __name__, url_prefix="/schedules")
# The override is set and ended by its own buttons (below), never by the schedule's form.
SECTION = ListSection("schedules", models.Schedule, kind="schedule", audit="schedule", keep=("override",))
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
    override_errors: dict | None = None,
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
            # The phone codes name a schedule by its place in name order (fsctl.routing.override).
            code_number=_code_number(schedule),
            codes=default_plan().features,
            override_errors=override_errors or {},
            override_form=request.form if override_errors else {},
        ),
        status,
    )


def _code_number(schedule: models.Schedule | None) -> int | None:
    if schedule is None:
        return None
    names = sorted(s.name for s in g.tenant.schedules)
    return names.index(schedule.name) + 1 if schedule.name in names else None


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


def _save_override(schedule: models.Schedule, override: dict | None, verb: str) -> SaveRefused | None:
    try:
        save_tenant(
            g.tenant.id,
            lambda doc: set_override(doc, schedule.name, override),
            actor=actor(),
            action=f"schedule.override.{verb}",
            summary=schedule.name,
        )
    except SaveRefused as refused:
        return refused
    return None


@bp.post("/<int:schedule_id>/override")
@admin_required
def override_set(schedule_id: int):
    """臨時休業 / 臨時営業: forced closed or open until the chosen time (default: the next regular
    change into that state; "until I end it": no end)."""
    schedule = SECTION.row(schedule_id)
    zone = g.tenant.timezone or "Asia/Tokyo"
    form = request.form
    until = None if checkbox(form, "no_end") else (form.get("until", "").strip() or DEFAULT)
    try:
        override = override_entry(schedule, form.get("mode"), until, zone, dt.datetime.now(dt.UTC))
    except OverrideInputError as error:
        doc = current_document(g.tenant)
        entry = doc["schedules"][SECTION.position(doc, schedule.name)]
        return _render(doc, entry, {}, [], schedule, 422, {error.field: error.message})
    if refused := _save_override(schedule, override, "set"):
        flash_problems(refused.problems())
    else:
        flash(_set_words(override, zone), "ok")
    return redirect(url_for("schedules.edit", schedule_id=schedule_id) + "#override")


def _set_words(override: dict, zone: str) -> str:
    if "until" not in override:
        if override["mode"] == "closed":
            return gettext("Closed (temporary closure) until you end it.")
        return gettext("Open (extra opening) until you end it.")
    until = wall_clock(dt.datetime.fromisoformat(override["until"]), zone)
    if override["mode"] == "closed":
        return gettext("Closed (temporary closure) until %(until)s.", until=until)
    return gettext("Open (extra opening) until %(until)s.", until=until)


@bp.post("/<int:schedule_id>/override/end")
@admin_required
def override_end(schedule_id: int):
    """End the override now: the regular hours decide the very next call."""
    schedule = SECTION.row(schedule_id)
    if refused := _save_override(schedule, None, "end"):
        flash_problems(refused.problems())
    else:
        flash(gettext("The override has ended; the regular hours apply."), "ok")
    return redirect(url_for("schedules.edit", schedule_id=schedule_id) + "#override")
