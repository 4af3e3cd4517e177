""" "What happens if…": fsctl's trace (the very planners that answer FreeSWITCH) as a page."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Hashable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.snapshots import Snapshots
from fsctl.trace import TraceError, trace
from fsctl.wiring import snapshots
from fsctl.xmlcurl.store import LruCache
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.trace_words import steps

bp = Blueprint("trace", __name__, url_prefix="/what-if")
# When no caller is given, the question is "someone outside calls this number".
OUTSIDE_CALLER = "09012345678"


def _parse_at(day: str, time: str) -> dt.datetime | None:
    if not day and not time:
        return None
    # The tenant's wall clock, as `fsctl trace --at` reads it.
    day = day or dt.datetime.now(ZoneInfo(g.tenant.timezone)).date().isoformat()
    return dt.datetime.fromisoformat(f"{day} {time or '12:00'}")


class _LockedCache:
    """A small LRU of tenant snapshots shared by the panel's threads (keys carry the config version,
    so an entry is never stale: a change makes the next question load the tenant again)."""

    def __init__(self, max_entries: int = 16):
        self._cache = LruCache(max_entries=max_entries)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._cache.put(key, value)


def panel_snapshots() -> Snapshots:
    """This app's snapshot loader for "what happens if": asking again about the same tenant costs no
    load (a 1,000-user tenant's snapshot is ~15 ms of SQL and building), as in the lookup workers."""
    return current_app.extensions.setdefault("kumo_trace_snapshots", snapshots(_LockedCache()))


def _display_time(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y/%m/%d %H:%M")
    except ValueError:
        return iso


@bp.get("/")
@admin_required
def index():
    form = {k: request.args.get(k, "").strip() for k in ("from", "to", "day", "time")}
    plan = error = None
    if form["to"]:
        try:
            at = _parse_at(form["day"], form["time"])
            # trace() opens its own session on the panel's engine: it reads committed data only.
            plan = trace(
                lambda: Session(db.engine),
                g.tenant.domain,
                form["from"] or OUTSIDE_CALLER,
                form["to"],
                at,
                loader=panel_snapshots(),
            )
        except (TraceError, ValueError):
            # Python's "Invalid isoformat string" is not for customers: say what a valid answer looks like.
            error = gettext(
                "The date or time is not valid: enter a date such as 2026/12/31 and a time such as 20:00."
            )
    # Suggestions for the form, straight from the tables (no whole-tenant export on every question).
    users = db.session.execute(
        select(models.User.extension, models.User.name)
        .where(models.User.tenant_id == g.tenant.id)
        .order_by(models.User.extension)
    ).all()
    numbers = db.session.scalars(
        select(models.Number.national)
        .where(models.Number.tenant_id == g.tenant.id)
        .order_by(models.Number.national)
    ).all()
    # The plan's time is in the tenant's zone already: shown as 2026/12/07 20:00.
    at_display = _display_time(plan.at) if plan is not None else ""
    return render_template(
        "trace.html",
        form=form,
        plan=plan,
        steps=steps(plan) if plan is not None else [],
        at_display=at_display,
        error=error,
        users=users,
        numbers=numbers,
    )
