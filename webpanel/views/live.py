"""Live view: calls, parked calls, ringing calls and registered devices (fsctl.esl.state.live_state).

A tenant admin sees the whole tenant; a tenant user only the rows of their own extension.

The page refreshes itself: static/live.js fetches `?fragment=1` (the same rows, rendered by the same
template) every LIVE_REFRESH_SECONDS and ticks the durations each second; without JavaScript a
<noscript> meta refresh reloads the page. The presence grid is derived from the same live tables:
talking (a live call), ringing, parked (a call this extension parked), idle (registered), offline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from fsctl import models
from fsctl.esl.state import live_state
from webpanel.extensions import db
from webpanel.queue_state import agent_rows, waiting_callers
from webpanel.security import tenant_required
from webpanel.views.media import own_extension

bp = Blueprint("live", __name__, url_prefix="/live")

# The column that names the extension a row belongs to, per section of live_state().
OWNER = {"calls": "extension", "parked": "parked_by", "ringing": "extension", "registrations": "extension"}
PRESENCE_ORDER = ("talking", "ringing", "parked", "idle", "offline")


def duration(since: dt.datetime | None, now: dt.datetime) -> str:
    """1:05, or 1:02:03 past an hour; what a wallboard shows."""
    if since is None:
        return ""
    seconds = max(int((now - since).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def presence(state: dict[str, list[dict[str, Any]]], users: list[tuple[str, str]]) -> list[dict[str, str]]:
    """One tile per extension: the busiest of its states in the live tables."""
    found: dict[str, set[str]] = {}
    for row in state["calls"]:
        found.setdefault(row.get("extension") or "", set()).add(
            "talking" if row.get("state") == "answered" else "ringing"
        )
    for row in state["ringing"]:
        found.setdefault(row.get("extension") or "", set()).add("ringing")
    for row in state["parked"]:
        found.setdefault(row.get("parked_by") or "", set()).add("parked")
    for row in state["registrations"]:
        found.setdefault(row.get("extension") or "", set()).add("idle")
    tiles = []
    for extension, name in users:
        states = found.get(extension, set())
        status = next((s for s in PRESENCE_ORDER if s in states), "offline")
        tiles.append({"extension": extension, "name": name, "status": status})
    return tiles


def presence_label(status: str) -> str:
    return {
        "talking": gettext("Talking"),
        "ringing": gettext("Ringing"),
        "parked": gettext("Parked"),
        "idle": gettext("Idle"),
        "offline": gettext("Offline"),
    }[status]


@bp.get("/")
@tenant_required
def index():
    now = dt.datetime.now(dt.UTC)
    state = live_state(db.engine, g.tenant.id, now)
    mine = own_extension()
    if mine is not None:
        state = {key: [row for row in rows if row.get(OWNER[key]) == mine] for key, rows in state.items()}
    query = select(models.User.extension, models.User.name).where(models.User.tenant_id == g.tenant.id)
    if mine is not None:
        query = query.where(models.User.extension == mine)
    users = [tuple(row) for row in db.session.execute(query.order_by(models.User.extension))]
    context = {
        "state": state,
        "admin": mine is None,
        "tiles": presence(state, users),
        "now": now,
        "duration": duration,
        "presence_label": presence_label,
        "refresh": current_app.config.get("LIVE_REFRESH_SECONDS", 5),
        # Call queues: who waits where, and the agents' state (the whole tenant's, for admins).
        "waiting": waiting_callers(db.session, g.tenant) if mine is None else [],
        "agents": agent_rows(db.session, g.tenant.id) if mine is None else [],
    }
    if request.args.get("fragment"):
        return render_template("live/_content.html", **context)
    return render_template("live/index.html", **context)
