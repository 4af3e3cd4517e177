"""Operator pages: tenants (search, status, activate, suspend, channels), inventory, audit, settings."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import sessionmaker

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.numbers import NumberError
from fsctl.security.panel import suspension as external_suspension
from webpanel import application
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.platform import DEFAULTS, get_setting, set_setting
from webpanel.security import operator_required
from webpanel.tenantdoc import SaveRefused, audit, save_tenant
from webpanel.views.common import PAGE_SIZE, actor, page_number

bp = Blueprint("operator", __name__, url_prefix="/operator")
STATUSES = [s.value for s in models.TenantStatus]
APPLICATION_STATES = [s.value for s in models.ApplicationState]


@bp.get("/")
@operator_required
def dashboard():
    """What needs the operator: tenants by state, applications waiting, and the health of the
    database, each lookup service and its switch."""
    by_status = dict(
        db.session.execute(select(models.Tenant.status, func.count()).group_by(models.Tenant.status)).all()
    )
    by_application = dict(
        db.session.execute(
            select(models.TenantProfile.application_state, func.count()).group_by(
                models.TenantProfile.application_state
            )
        ).all()
    )
    started = time.perf_counter()
    try:
        db.session.execute(select(1))
        database = {"ok": True, "ms": (time.perf_counter() - started) * 1000}
    except Exception as exc:  # noqa: BLE001 - the dashboard reports it
        db.session.rollback()
        database = {"ok": False, "error": type(exc).__name__}
    urls = [u.strip().rstrip("/") for u in (current_app.config.get("WEBPANEL_SERVICE_URLS") or "").split(",")]
    return render_template(
        "operator/dashboard.html",
        by_status=[(status, by_status.get(models.TenantStatus(status), 0)) for status in STATUSES],
        waiting=[
            (state, by_application.get(state, 0))
            for state in (
                models.ApplicationState.WAITING_DOCUMENTS,
                models.ApplicationState.DOCUMENTS_RECEIVED,
                models.ApplicationState.MAIL_SENT,
                models.ApplicationState.RETURNED,
            )
        ],
        database=database,
        services=[service_health(url) for url in urls if url],
    )


def service_health(url: str, timeout: float = 1.5) -> dict:
    """One fsctl service's /healthz (fsctl.xmlcurl.app): its database and its switch (event socket)."""
    request_ = urllib.request.Request(f"{url}/healthz", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request_, timeout=timeout) as response:  # noqa: S310 - operator's URL
            payload = json.loads(response.read(4096))
    except urllib.error.HTTPError as exc:  # 503: degraded, with the same JSON body
        try:
            payload = json.loads(exc.read(4096))
        except ValueError:
            return {"url": url, "reachable": False, "error": f"HTTP {exc.code}"}
    except (OSError, ValueError) as exc:
        return {"url": url, "reachable": False, "error": str(getattr(exc, "reason", exc))[:120]}
    return {
        "url": url,
        "reachable": True,
        "ok": payload.get("status") == "ok",
        "database": str(payload.get("database", "")),
        "switch": payload.get("esl") == "connected",
        "version": str(payload.get("version", "")),
    }


@bp.get("/tenants")
@operator_required
def tenants():
    page = page_number()
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    waiting = request.args.get("application", "")
    query = select(models.Tenant)
    if waiting in APPLICATION_STATES:
        query = query.join(models.TenantProfile, models.TenantProfile.tenant_id == models.Tenant.id).where(
            models.TenantProfile.application_state == models.ApplicationState(waiting)
        )
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
        application=waiting,
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
        documents=application.DOCUMENTS,
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
            profile.application_state = models.ApplicationState.VERIFIED
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


# -- the formal application (webpanel.application) ------------------------------------------------


def _application_step(tenant_id: int, step, action: str, summary: str):
    """Take one step of a tenant's application, mail the customer, and come back to the tenant page."""
    row = db.get_or_404(models.Tenant, tenant_id)
    profile = db.session.get(models.TenantProfile, tenant_id)
    if profile is None:
        abort(404)
    before = profile.application_state
    try:
        step(profile)
    except application.ApplicationRefused as refused:
        flash(f"{gettext('Refused')}: {gettext(refused.message)}", "error")
        return redirect(url_for("operator.tenant", tenant_id=tenant_id))
    audit(actor(), action, summary, tenant_id)
    db.session.commit()
    if profile.application_state != before:
        application.notify(profile, row.name, get_setting("application_mail_to"))
    flash(gettext("Saved."), "ok")
    return redirect(url_for("operator.tenant", tenant_id=tenant_id))


@bp.post("/tenants/<int:tenant_id>/application/documents")
@operator_required
def application_documents(tenant_id: int):
    received = request.form.getlist("documents")
    return _application_step(
        tenant_id,
        lambda profile: application.receive_documents(profile, received),
        "tenant.application_documents",
        "documents received: " + (", ".join(received) or "none"),
    )


@bp.post("/tenants/<int:tenant_id>/application/mail")
@operator_required
def application_mail(tenant_id: int):
    tracking = request.form.get("mail_tracking", "")
    return _application_step(
        tenant_id,
        lambda profile: application.mail_sent(profile, tracking),
        "tenant.application_mail",
        f"registered mail sent: {tracking.strip()[:40]}",
    )


@bp.post("/tenants/<int:tenant_id>/application/return")
@operator_required
def application_return(tenant_id: int):
    reason = request.form.get("reason", "")
    return _application_step(
        tenant_id,
        lambda profile: application.send_back(profile, reason),
        "tenant.application_returned",
        f"application sent back: {reason.strip()[:200]}",
    )


@bp.post("/tenants/<int:tenant_id>/application/verify")
@operator_required
def application_verify(tenant_id: int):
    """The registered mail was delivered: the application is verified and the tenant activated
    (through the tenant file's apply, like the status field)."""
    row = db.get_or_404(models.Tenant, tenant_id)
    profile = db.session.get(models.TenantProfile, tenant_id)
    if profile is None or profile.application_state != models.ApplicationState.MAIL_SENT:
        flash(
            f"{gettext('Refused')}: {gettext('Only a delivered registered mail completes the application.')}",
            "error",
        )
        return redirect(url_for("operator.tenant", tenant_id=tenant_id))
    if row.status != models.TenantStatus.ACTIVE:

        def activate(document: dict) -> None:
            document["status"] = models.TenantStatus.ACTIVE.value

        try:
            save_tenant(
                tenant_id, activate, actor=actor(), action="tenant.operator_update", summary="status active"
            )
        except SaveRefused as refused:
            flash_problems(refused.problems())
            return redirect(url_for("operator.tenant", tenant_id=tenant_id))
    return _application_step(
        tenant_id,
        lambda profile: application.verify(profile, g.account.email),
        "tenant.verified",
        row.domain,
    )
