"""Live view: calls, parked calls, ringing calls and registered devices (fsctl.esl.state.live_state).

A tenant admin sees the whole tenant; a tenant user only the rows of their own extension."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from fsctl.esl.state import live_state
from webpanel.extensions import db
from webpanel.security import tenant_required
from webpanel.views.media import own_extension

bp = Blueprint("live", __name__, url_prefix="/live")

# The column that names the extension a row belongs to, per section of live_state().
OWNER = {"calls": "extension", "parked": "parked_by", "ringing": "extension", "registrations": "extension"}


@bp.get("/")
@tenant_required
def index():
    state = live_state(db.engine, g.tenant.id)
    mine = own_extension()
    if mine is not None:
        state = {key: [row for row in rows if row.get(OWNER[key]) == mine] for key, rows in state.items()}
    return render_template("live/index.html", state=state, admin=mine is None)
