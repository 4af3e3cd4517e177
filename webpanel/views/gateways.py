"""Gateways (tenant admin): each customer gateway's registration, channels in use and refusals today,
from fsctl.gateways.panel.gateway_status for the signed-in tenant."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from fsctl.gateways.panel import gateway_status
from webpanel.extensions import db
from webpanel.security import admin_required

bp = Blueprint("gateways", __name__, url_prefix="/gateways")


@bp.get("/")
@admin_required
def index():
    return render_template("gateways/index.html", gateways=gateway_status(db.session, g.tenant.id))
