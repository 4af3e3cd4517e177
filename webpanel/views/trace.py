""" "What happens if…": fsctl's trace (the very planners that answer FreeSWITCH) as a page."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, render_template, request
from sqlalchemy.orm import sessionmaker

from fsctl.trace import TraceError, trace
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.tenantdoc import current_document

bp = Blueprint("trace", __name__, url_prefix="/what-if")
# When no caller is given, the question is "someone outside calls this number".
OUTSIDE_CALLER = "09012345678"


def _parse_at(day: str, time: str) -> dt.datetime | None:
    if not day and not time:
        return None
    # The tenant's wall clock, as `fsctl trace --at` reads it.
    day = day or dt.date.today().isoformat()
    return dt.datetime.fromisoformat(f"{day} {time or '12:00'}")


def _display_time(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y/%m/%d %H:%M")
    except ValueError:
        return iso


@bp.get("/")
@admin_required
def index():
    doc = current_document(g.tenant)
    form = {k: request.args.get(k, "").strip() for k in ("from", "to", "day", "time")}
    plan = error = None
    if form["to"]:
        try:
            at = _parse_at(form["day"], form["time"])
            # trace() opens its own session on the panel's engine: it reads committed data only.
            plan = trace(
                sessionmaker(db.engine), g.tenant.domain, form["from"] or OUTSIDE_CALLER, form["to"], at
            )
        except (TraceError, ValueError) as exc:
            error = str(exc)
    numbers = sorted({n["number"] for n in doc["numbers"]} | {u["did"] for u in doc["users"] if u.get("did")})
    return render_template(
        "trace.html", form=form, plan=plan, error=error, users=doc["users"], numbers=numbers
    )
