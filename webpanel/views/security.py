"""Security: the tenant administrator's own user+IP bans and events, and the operator's page of every
ban and event with a lift button (fsctl.security.panel, which does the scoping).

The operator routes hang on the operator blueprint (endpoints operator.*, under /operator/)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext

from fsctl.security import panel
from webpanel.extensions import db
from webpanel.security import admin_required, operator_required
from webpanel.views import operator
from webpanel.views.common import actor

bp = Blueprint("security", __name__, url_prefix="/security")


@bp.get("/")
@admin_required
def index():
    return render_template(
        "security/index.html", view=panel.overview(db.session, g.tenant.id), operator_view=False
    )


@operator.bp.get("/security")
@operator_required
def security():
    return render_template("security/index.html", view=panel.overview(db.session), operator_view=True)


@operator.bp.post("/security/bans/<int:ban_id>/lift")
@operator_required
def lift_ban(ban_id: int):
    if panel.lift(db.session, actor(), ban_id):
        flash(gettext("The ban was lifted."), "success")
    else:
        db.session.rollback()
        flash(gettext("That ban no longer exists."), "error")
    return redirect(url_for("operator.security"))
