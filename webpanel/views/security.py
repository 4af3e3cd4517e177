"""Security: the tenant administrator's own user+IP bans (with a lift button), events, call caps and a
spend suspension with its resume button; the operator's page of every ban and event with a lift button,
and the operator's resume on a tenant's page (fsctl.security.panel, which does the scoping).

The operator routes hang on the operator blueprint (endpoints operator.*, under /operator/)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from sqlalchemy import select

from fsctl import models
from fsctl.security import panel
from fsctl.security.bans import ban_view, ip_ban_until
from webpanel.extensions import db
from webpanel.i18n import date_time
from webpanel.security import admin_required, operator_required
from webpanel.tenantdoc import audit
from webpanel.views import operator
from webpanel.views.common import actor

bp = Blueprint("security", __name__, url_prefix="/security")


@bp.get("/")
@admin_required
def index():
    return render_template(
        "security/index.html", view=panel.overview(db.session, g.tenant.id), operator_view=False
    )


@bp.post("/bans/<int:ban_id>/lift")
@admin_required
def lift_ban(ban_id: int):
    """Lift one of the tenant's own user+IP bans; another tenant's or an IP-wide ban is 404 (no IDOR)."""
    ban = panel.tenant_ban(db.session, g.tenant.id, ban_id)
    if ban is None:
        abort(404)
    audit(actor(), "security.ban_lift", ban.subject, g.tenant.id)
    if panel.lift(db.session, actor(), ban_id, g.tenant.id):  # commits the audit entry with the lift
        user = f"{ban.username}@{ban.domain}"
        until = ip_ban_until(db.session, ban.ip, ban.domain, ban.username)
        if until is None:
            message = gettext(
                "The ban of %(user)s from %(ip)s was lifted: that phone can sign in again.",
                user=user,
                ip=ban.ip,
            )
            flash(message, "ok")
        else:
            message = gettext(
                "The ban of %(user)s from %(ip)s was lifted, but that address is also blocked for every user"
                " until %(until)s after repeated failed sign-ins; only the platform operator can lift that.",
                user=user,
                ip=ban.ip,
                until=date_time(until),
            )
            flash(message, "warn")
    else:
        db.session.rollback()
        flash(gettext("That ban no longer exists."), "error")
    return redirect(url_for("security.index"))


@bp.post("/resume")
@admin_required
def resume():
    """Re-enable the tenant's external calls after a spend suspension (audited by fsctl.security)."""
    _resume(g.tenant.id)
    return redirect(url_for("security.index"))


def _resume(tenant_id: int) -> None:
    if panel.resume_external_calls(db.session, actor(), tenant_id):
        flash(gettext("External calls are enabled again, from the next call on."), "ok")
    else:
        flash(gettext("External calls were not suspended."), "warn")


@operator.bp.get("/security")
@operator_required
def security():
    return render_template(
        "security/index.html",
        view=panel.overview(db.session),
        operator_view=True,
        suspended=panel.suspended_tenants(db.session),
    )


@operator.bp.post("/security/bans/<int:ban_id>/lift", endpoint="lift_ban")
@operator_required
def operator_lift_ban(ban_id: int):
    ban = db.session.get(models.Ban, ban_id)
    if ban is not None:
        # A user+IP ban goes to its tenant's audit log too; an IP-wide ban to the platform's.
        tenant_id = db.session.scalar(select(models.Tenant.id).where(models.Tenant.domain == ban.domain))
        audit(actor(), "security.ban_lift", ban_view(ban).subject, tenant_id if ban.domain else None)
    if panel.lift(db.session, actor(), ban_id):
        flash(gettext("The ban was lifted."), "ok")
    else:
        db.session.rollback()
        flash(gettext("That ban no longer exists."), "error")
    return redirect(url_for("operator.security"))


@operator.bp.post("/tenants/<int:tenant_id>/resume-external")
@operator_required
def resume_external(tenant_id: int):
    db.get_or_404(models.Tenant, tenant_id)
    _resume(tenant_id)
    return redirect(url_for("operator.tenant", tenant_id=tenant_id))
