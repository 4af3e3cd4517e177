"""Billing (tenant admin): month to date, the month's forecast, past statements and their PDFs.

Everything through fsctl.billing.panel with the signed-in tenant's id; a statement's PDF is looked up
by id *and* tenant there, so another tenant's id is a 404."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, g, render_template

from fsctl.billing import panel
from fsctl.billing.rating import BILLING_TZ
from fsctl.billing.settings import BillingSettings, billing_settings_from_env
from webpanel.extensions import db
from webpanel.security import admin_required

bp = Blueprint("billing", __name__, url_prefix="/billing")


def billing_settings() -> BillingSettings:
    return current_app.config.get("BILLING_SETTINGS") or billing_settings_from_env()


def today() -> dt.date:
    return current_app.config.get("BILLING_TODAY") or dt.datetime.now(BILLING_TZ).date()


@bp.get("/")
@admin_required
def index():
    day = today()
    return render_template(
        "billing/index.html",
        today=day,
        current=panel.month_to_date(db.session, g.tenant.id, day),
        forecast=panel.forecast(db.session, g.tenant.id, day),
        statements=panel.statements(db.session, g.tenant.id),
    )


@bp.get("/statements/<int:statement_id>.pdf")
@admin_required
def statement_pdf(statement_id: int):
    pdf = panel.statement_pdf(db.session, g.tenant.id, statement_id, billing_settings())
    if pdf is None:
        abort(404)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=statement-{statement_id}.pdf"},
    )
