"""Operator pages: tenants (search, status, activate, suspend, channels), inventory, audit, settings."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import sessionmaker

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.numbers import NumberError
from fsctl.security.panel import suspension as external_suspension
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.platform import DEFAULTS, get_setting, set_setting
from webpanel.security import operator_required
from webpanel.tenantdoc import SaveRefused, audit, save_tenant
from webpanel.views.common import PAGE_SIZE, actor, page_number

bp = Blueprint("operator", __name__, url_prefix="/operator")
STATUSES = [s.value for s in models.TenantStatus]


@bp.get("/tenants")
@operator_required
def tenants():
    page = page_number()
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    query = select(models.Tenant)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(models.Tenant.name).like(like), models.Tenant.domain.like(like)))
    if status in STATUSES:
        query = query.where(models.Tenant.status == models.TenantStatus(status))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(models.Tenant.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    profiles = {
        p.tenant_id: p
        for p in db.session.scalars(
            select(models.TenantProfile).where(models.TenantProfile.tenant_id.in_([t.id for t in rows]))
        )
    }
    return render_template(
        "operator/tenants.html",
        tenants=rows,
        profiles=profiles,
        q=q,
        status=status,
        statuses=STATUSES,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
    )


@bp.get("/tenants/<int:tenant_id>")
@operator_required
def tenant(tenant_id: int):
    row = db.get_or_404(models.Tenant, tenant_id)
    profile = db.session.get(models.TenantProfile, tenant_id)
    users = db.session.scalar(select(func.count(models.User.id)).where(models.User.tenant_id == tenant_id))
    numbers = db.session.scalars(
        select(models.Number).where(models.Number.tenant_id == tenant_id).order_by(models.Number.national)
    ).all()
    from webpanel.views.tenant import trial_info

    return render_template(
        "operator/tenant.html",
        row=row,
        profile=profile,
        users=users,
        numbers=numbers,
        trial_of=trial_info(row),
        statuses=STATUSES,
        suspension=external_suspension(db.session, tenant_id),
    )


@bp.post("/tenants/<int:tenant_id>")
@operator_required
def tenant_update(tenant_id: int):
    """Status (activate, suspend) and the contracted channel count, through the tenant file's apply."""
    row = db.get_or_404(models.Tenant, tenant_id)
    status = request.form.get("status", row.status.value)
    channels = request.form.get("max_external_channels", str(row.max_external_channels)).strip()
    international_prefixes = request.form.get("allowed_prefixes")

    def change(document: dict) -> None:
        document["status"] = status
        document["max_external_channels"] = channels
        if international_prefixes is not None:
            document["allowed_prefixes"] = [p for p in international_prefixes.replace(",", " ").split() if p]

    try:
        save_tenant(
            tenant_id,
            change,
            actor=actor(),
            action="tenant.operator_update",
            summary=f"status {status}, channels {channels}",
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("operator.tenant", tenant_id=tenant_id))
    if status == models.TenantStatus.ACTIVE.value:
        profile = db.session.get(models.TenantProfile, tenant_id)
        if profile is not None and profile.verified_at is None:
            # Activating is the operator's statement that the application was verified.
            profile.verified_at = dt.datetime.now(dt.UTC)
            profile.verified_by = g.account.email
            audit(actor(), "tenant.verified", row.domain, tenant_id)
            db.session.commit()
    flash(gettext("Saved."), "ok")
    return redirect(url_for("operator.tenant", tenant_id=tenant_id))


@bp.route("/numbers", methods=["GET", "POST"])
@operator_required
def numbers():
    if request.method == "POST":
        spec = request.form.get("range", "").strip()
        try:
            added, existing = add_numbers(sessionmaker(db.engine), spec, actor=actor())
            flash(
                gettext(
                    "Added %(added)d number(s); %(existing)d were already in the inventory.",
                    added=added,
                    existing=existing,
                ),
                "ok",
            )
        except NumberError as exc:
            flash(f"{gettext('Refused')}: {exc}", "error")
        return redirect(url_for("operator.numbers"))
    page = page_number()
    show = request.args.get("show", "")
    q = request.args.get("q", "").strip()
    query = select(models.Number, models.Tenant).outerjoin(
        models.Tenant, models.Number.tenant_id == models.Tenant.id
    )
    if show == "free":
        query = query.where(models.Number.tenant_id.is_(None))
    elif show == "assigned":
        query = query.where(models.Number.tenant_id.is_not(None))
    if q:
        query = query.where(models.Number.national.like(f"{q}%"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(models.Number.national).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "operator/numbers.html", rows=rows, page=page, total=total, show=show, q=q, page_size=PAGE_SIZE
    )


@bp.get("/audit")
@operator_required
def audit_log():
    page = page_number()
    query = select(models.AuditEntry)
    tenant_id = request.args.get("tenant", "")
    if tenant_id.isdigit():
        query = query.where(models.AuditEntry.tenant_id == int(tenant_id))
    entries = db.session.scalars(
        query.order_by(models.AuditEntry.at.desc(), models.AuditEntry.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "audit.html", entries=entries[:PAGE_SIZE], page=page, more=len(entries) > PAGE_SIZE, operator=True
    )


@bp.route("/settings", methods=["GET", "POST"])
@operator_required
def settings():
    if request.method == "POST":
        for key in DEFAULTS:
            if key in request.form:
                set_setting(key, request.form[key].strip()[:500])
        audit(actor(), "platform.settings", ", ".join(k for k in DEFAULTS if k in request.form))
        db.session.commit()
        flash(gettext("Saved."), "ok")
        return redirect(url_for("operator.settings"))
    return render_template("operator/settings.html", values={k: get_setting(k) for k in DEFAULTS})
