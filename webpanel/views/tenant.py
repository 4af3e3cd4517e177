"""The tenant's home (status, trial, application), calling settings, audit log, API tokens, slots."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import func, select

from fsctl import models
from fsctl.billing.panel import spend_by_month
from fsctl.billing.settings import billing_settings_from_env, find_font
from fsctl.cdr.activity import DailyCallCounts
from fsctl.esl.state import outside_lines_in_use
from fsctl.routing.calls import TRIAL_DAYS
from fsctl.security.panel import suspension as external_suspension
from webpanel import application
from webpanel.charts import calls_chart, spend_chart
from webpanel.extensions import db
from webpanel.platform import get_setting
from webpanel.security import admin_required, require, tenant_object
from webpanel.tenantdoc import SaveRefused, audit, current_document, save_tenant
from webpanel.views.billing import today as billing_today
from webpanel.views.common import PAGE_SIZE, actor, checkbox, page_number

log = logging.getLogger(__name__)
CHART_DAYS = 30
bp = Blueprint("tenant", __name__)


def trial_info(tenant: models.Tenant, today: dt.date | None = None) -> dict:
    """When the trial ends and how many days are left."""
    today = today or dt.datetime.now(ZoneInfo(tenant.timezone)).date()
    ends = tenant.trial_started_on + dt.timedelta(days=TRIAL_DAYS)
    return {"ends_on": ends, "days_left": max(0, (ends - today).days), "expired": today >= ends}


@bp.app_context_processor
def _tenant_status() -> dict:
    tenant = g.get("tenant")
    if tenant is None:
        return {}
    return {
        "tenant": tenant,
        "trial": trial_info(tenant) if tenant.status == models.TenantStatus.TRIAL else None,
    }


@bp.get("/")
@require()
def home():
    account = g.account
    if account.role == models.AccountRole.OPERATOR:
        return redirect(url_for("operator.dashboard"))
    if account.role == models.AccountRole.USER:
        return redirect(url_for("users.me"))
    tenant = g.tenant
    profile = db.session.get(models.TenantProfile, tenant.id)
    counts = {
        "users": db.session.scalar(
            select(func.count(models.User.id)).where(models.User.tenant_id == tenant.id)
        ),
        "numbers": db.session.scalar(
            select(func.count(models.Number.id)).where(models.Number.tenant_id == tenant.id)
        ),
    }
    counts["lines_in_use"] = outside_lines_in_use(db.session.connection(), tenant.id)
    return render_template(
        "home.html",
        profile=profile,
        counts=counts,
        checklist=setup_checklist(tenant, counts),
        application_steps=application_steps(profile),
        support_contact=get_setting("support_contact"),
        suspension=external_suspension(db.session, tenant.id),
        calls_chart=calls_chart(_daily_calls()(db.session, tenant.id, tenant.timezone, CHART_DAYS)),
        spend_chart=spend_chart(_spend(tenant.id)),
    )


def _daily_calls() -> DailyCallCounts:
    """The app's counter for the overview's chart (ended days counted again every 10 minutes, today
    on each view); one per app, so two apps on two databases never share counts."""
    return current_app.extensions.setdefault("kumo_daily_calls", DailyCallCounts())


SPEND_KEEP_SECONDS = 600.0


def _spend(tenant_id: int) -> list[dict]:
    """The overview's spend per month, computed again at most every 10 minutes per tenant.

    This month's figure is the billing page's whole statement so far (fsctl.billing.panel), which
    sums every call not yet invoiced: with months not closed that is every call of the tenant
    (~250 ms at 1,000,000). The billing page stays exact; the overview's bar may be 10 minutes old.
    """
    cache = current_app.extensions.setdefault("kumo_spend", {})
    today = billing_today()
    hit = cache.get((tenant_id, today))
    if hit is not None and time.monotonic() - hit[0] < SPEND_KEEP_SECONDS:
        return hit[1]
    series = spend_by_month(db.session, tenant_id, today)
    if len(cache) > 1000:
        cache.clear()
    cache[(tenant_id, today)] = (time.monotonic(), series)
    return series


def setup_checklist(tenant: models.Tenant, counts: dict[str, int]) -> list[dict[str, object]] | None:
    """The first steps of a new company, each done or with a link; None once all are.

    Existence checks only (LIMIT 1), so the overview stays fast for a 1,000-user, 1,000,000-call tenant."""

    def exists(model, *where) -> bool:
        return (
            db.session.scalar(select(model.id).where(model.tenant_id == tenant.id, *where).limit(1))
            is not None
        )

    steps = [
        {"key": "users", "done": counts["users"] > 0, "label": gettext("Add users (one per phone)"),
         "url": url_for("users.new")},
        {"key": "number", "done": counts["numbers"] > 0, "label": gettext("Take a phone number"),
         "url": url_for("numbers.available")},
        {"key": "ring_group", "done": exists(models.RingGroup), "label": gettext("Make a ring group"),
         "url": url_for("ringgroups.new")},
        {"key": "schedule", "done": exists(models.Schedule), "label": gettext("Set your business hours"),
         "url": url_for("schedules.new")},
        {"key": "test_call", "done": exists(models.CallRecord), "label": gettext("Make a first test call"),
         "url": url_for("trace.index")},
    ]  # fmt: skip
    return None if all(step["done"] for step in steps) else steps


def _profile() -> models.TenantProfile:
    profile = db.session.get(models.TenantProfile, g.tenant.id)
    if profile is None:
        profile = models.TenantProfile(
            tenant_id=g.tenant.id, contact_name=g.account.display_name, phone="", email=g.account.email
        )
        db.session.add(profile)
    return profile


@bp.route("/application", methods=["GET", "POST"])
@admin_required
def application_page():
    """The formal application (webpanel.application): the contract holder's details, then its steps."""
    profile = _profile()
    errors: dict[str, str] = {}
    if request.method == "POST" and g.tenant.status != models.TenantStatus.TRIAL:
        return redirect(url_for("tenant.application_page"))  # active or suspended: nothing to apply for
    if request.method == "POST":
        details, errors = application.details_errors(request.form)
        if details is not None:
            try:
                application.submit(profile, details)
            except application.ApplicationRefused as refused:
                errors = {refused.field: refused.message}
            else:
                audit(actor(), "tenant.application", "formal application sent", g.tenant.id)
                db.session.commit()
                application.notify(profile, g.tenant.name, get_setting("application_mail_to"))
                flash(
                    gettext(
                        "Your application was sent. Print the form below and post it with the documents."
                    ),
                    "ok",
                )
                return redirect(url_for("tenant.application_page"))
    return (
        render_template(
            "application.html",
            profile=profile,
            errors=errors,
            form=request.form if request.method == "POST" else None,
            documents=application.DOCUMENTS,
            mail_to=get_setting("application_mail_to"),
            steps=application_steps(profile),
        ),
        422 if errors else 200,
    )


@bp.get("/application/form.pdf")
@admin_required
def application_form():
    profile = db.session.get(models.TenantProfile, g.tenant.id)
    if profile is None or profile.application_state in (
        models.ApplicationState.NONE,
        models.ApplicationState.RETURNED,
    ):
        return redirect(url_for("tenant.application_page"))
    try:
        font = find_font(billing_settings_from_env())
    except FileNotFoundError as exc:
        log.error("application form not made: %s", exc)
        abort(503)
    pdf = application.form_pdf(profile, g.tenant, font, get_setting("application_mail_to"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="kumo-application.pdf"'},
    )


def application_steps(profile: models.TenantProfile | None) -> list[dict[str, object]]:
    """The brochure's steps for the overview and the application page: each done, current or to come."""
    state = profile.application_state if profile is not None else models.ApplicationState.NONE
    order = [
        models.ApplicationState.NONE,
        models.ApplicationState.WAITING_DOCUMENTS,
        models.ApplicationState.DOCUMENTS_RECEIVED,
        models.ApplicationState.MAIL_SENT,
        models.ApplicationState.VERIFIED,
    ]
    position = 0 if state == models.ApplicationState.RETURNED else order.index(state)
    labels = [
        gettext("Send the application"),
        gettext("Post the signed form and your identity document"),
        gettext("We check your documents and send a registered mail to your address"),
        gettext("Receive the registered mail (it is not forwarded)"),
        gettext("Your account is active"),
    ]
    return [
        {"label": label, "done": index < position or state == models.ApplicationState.VERIFIED,
         "current": index == position and state != models.ApplicationState.VERIFIED}
        for index, label in enumerate(labels)
    ]  # fmt: skip


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    doc = current_document(g.tenant)
    errors: dict[str, str] = {}
    if request.method == "POST":
        international = checkbox(request.form, "international_calls")
        slots = request.form.get("park", "").strip()
        language = request.form.get("language", doc["language"])

        def change(document: dict) -> None:
            document["international_calls"] = international
            document["park"] = {"slots": slots} if slots else None
            document["language"] = language

        try:
            save_tenant(
                g.tenant.id, change, actor=actor(), action="settings.update", summary="calling settings"
            )
            flash(gettext("Saved."), "ok")
            return redirect(url_for("tenant.settings"))
        except SaveRefused as refused:
            errors = refused.field_errors(())
            doc.update(
                international_calls=international, park={"slots": slots} if slots else None, language=language
            )
    in_use = outside_lines_in_use(db.session.connection(), g.tenant.id)
    return render_template("settings.html", doc=doc, errors=errors, lines_in_use=in_use)


@bp.get("/audit")
@admin_required
def audit_log():
    page = page_number()
    query = select(models.AuditEntry).where(models.AuditEntry.tenant_id == g.tenant.id)
    entries = db.session.scalars(
        query.order_by(models.AuditEntry.at.desc(), models.AuditEntry.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "audit.html", entries=entries[:PAGE_SIZE], page=page, more=len(entries) > PAGE_SIZE, operator=False
    )


@bp.route("/api-tokens", methods=["GET", "POST"])
@admin_required
def api_tokens():
    new_token = None
    if request.method == "POST":
        name = request.form.get("name", "").strip()[:100] or "token"
        new_token = "kumo_" + secrets.token_urlsafe(32)
        db.session.add(
            models.ApiToken(
                tenant_id=g.tenant.id,
                name=name,
                token_hash=hashlib.sha256(new_token.encode()).hexdigest(),
                created_by=g.account.email,
            )
        )
        audit(actor(), "api_token.create", name, g.tenant.id)
        db.session.commit()
    tokens = db.session.scalars(
        select(models.ApiToken).where(models.ApiToken.tenant_id == g.tenant.id).order_by(models.ApiToken.id)
    ).all()
    return render_template("api_tokens.html", tokens=tokens, new_token=new_token)


@bp.post("/api-tokens/<int:token_id>/delete")
@admin_required
def api_token_delete(token_id: int):
    token = tenant_object(models.ApiToken, token_id)
    db.session.delete(token)
    audit(actor(), "api_token.delete", token.name, g.tenant.id)
    db.session.commit()
    return redirect(url_for("tenant.api_tokens"))
