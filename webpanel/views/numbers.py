"""The tenant's numbers: claim free numbers from the inventory, set where each rings, release."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select

from fsctl import models
from fsctl.billing.subscriptions import release_fee
from webpanel.call_flow import FlowBuilder
from webpanel.document_edits import fax_of, number_destinations, release, set_destination
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.i18n import yen
from webpanel.security import admin_required, tenant_object
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import (
    PAGE_SIZE,
    actor,
    checkbox,
    confirmation_page,
    confirmed,
    destination_choices,
    destination_value,
    page_number,
    parse_destination,
)

bp = Blueprint("numbers", __name__, url_prefix="/numbers")
KIND_PREFIXES = {"03": "03", "06": "06", "050": "050", "0120": "0120", "0800": "0800"}


def destination_label(destination: dict | None) -> str:
    """A document destination in words ("Extension 101"), for lists."""
    if not destination:
        return gettext("(none)")
    ((kind, target),) = destination.items()
    labels = {
        "user": gettext("Extension %(ext)s", ext=target),
        "voicemail": gettext("Voicemail of %(ext)s", ext=target),
        "ring_group": gettext("Ring group %(name)s", name=target),
        "schedule": gettext("Schedule %(name)s", name=target),
        "ivr": gettext("IVR menu %(name)s", name=target),
        "external": str(target),
        "announcement": gettext("Announcement %(name)s", name=target),
        "hangup": gettext("Hang up"),
    }
    return labels.get(kind, kind)


@bp.get("/")
@admin_required
def index():
    # One query for every number and where it rings (no whole-tenant export for a list).
    rows = db.session.execute(
        select(
            models.Number,
            models.Destination.kind,
            models.User.extension,
            models.RingGroup.name,
            models.Schedule.name,
            models.IvrMenu.name,
            models.Destination.external_number,
            models.Destination.announcement,
        )
        .outerjoin(models.Destination, models.Number.destination_id == models.Destination.id)
        .outerjoin(models.User, models.Destination.user_id == models.User.id)
        .outerjoin(models.RingGroup, models.Destination.ring_group_id == models.RingGroup.id)
        .outerjoin(models.Schedule, models.Destination.schedule_id == models.Schedule.id)
        .outerjoin(models.IvrMenu, models.Destination.ivr_menu_id == models.IvrMenu.id)
        .where(models.Number.tenant_id == g.tenant.id)
        .order_by(models.Number.national)
    ).all()
    numbers, labels = [], {}
    faxes = set(
        db.session.scalars(select(models.FaxNumber.number).where(models.FaxNumber.tenant_id == g.tenant.id))
    )
    for number, kind, extension, group, schedule, menu, external, announcement in rows:
        target = {
            "user": extension,
            "voicemail": extension,
            "ring_group": group,
            "schedule": schedule,
            "ivr": menu,
            "announcement": announcement,
        }
        destination = None
        if kind is not None:
            value = True if kind.value == "hangup" else target.get(kind.value, external)
            destination = {kind.value: value}
        numbers.append(number)
        fax = number.national in faxes
        labels[number.id] = gettext("FAX (mailed as PDF)") if fax else destination_label(destination)
    return render_template("numbers/index.html", numbers=numbers, labels=labels)


@bp.get("/<int:number_id>")
@admin_required
def edit(number_id: int):
    """One number's destination picker (one page per number: a big tenant has thousands of targets)."""
    number = tenant_object(models.Number, number_id)
    doc = current_document(g.tenant)
    destination = number_destinations(doc).get(number.national)
    return render_template(
        "numbers/edit.html",
        number=number,
        current=destination_value(destination),
        choices=destination_choices(doc),
        flow=FlowBuilder(doc).number(number.national, destination),
        fax=fax_of(doc, number.national),
    )


@bp.get("/available")
@admin_required
def available():
    page = page_number()
    prefix = request.args.get("prefix", "")
    query = select(models.Number).where(models.Number.tenant_id.is_(None))
    if prefix in KIND_PREFIXES:
        query = query.where(models.Number.national.like(f"{prefix}%"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(models.Number.national).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "numbers/available.html",
        numbers=rows,
        page=page,
        total=total,
        prefix=prefix,
        prefixes=KIND_PREFIXES,
        page_size=PAGE_SIZE,
    )


@bp.post("/available/<int:number_id>/claim")
@admin_required
def claim(number_id: int):
    if g.tenant.status != models.TenantStatus.ACTIVE:
        flash(gettext("Numbers can be chosen once your account is active."), "error")
        return redirect(url_for("numbers.available"))
    # Lock the free number (PostgreSQL) so two tenants claiming it at once cannot both get it.
    number = db.session.scalar(
        select(models.Number)
        .where(models.Number.id == number_id, models.Number.tenant_id.is_(None))
        .with_for_update()
    )
    if number is None:
        flash(gettext("That number is no longer available."), "error")
        return redirect(url_for("numbers.available"))
    national = number.national
    try:
        save_tenant(
            g.tenant.id,
            lambda doc: set_destination(doc, national, None),
            actor=actor(),
            action="number.claim",
            summary=national,
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("numbers.available"))
    flash(gettext("Number %(number)s is now yours. Choose where it rings.", number=national), "ok")
    return redirect(url_for("numbers.index"))


@bp.post("/<int:number_id>")
@admin_required
def update(number_id: int):
    number = tenant_object(models.Number, number_id)
    national = number.national
    destination = parse_destination(request.form, "destination")
    ivr_option = checkbox(request.form, "ivr_option")
    try:
        save_tenant(
            g.tenant.id,
            lambda doc: set_destination(doc, national, destination, ivr_option),
            actor=actor(),
            action="number.update",
            summary=national,
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("numbers.edit", number_id=number_id))
    flash(gettext("Saved."), "ok")
    return redirect(url_for("numbers.index"))


@bp.post("/<int:number_id>/release")
@admin_required
def release_number(number_id: int):
    number = tenant_object(models.Number, number_id)
    national = number.national
    if not confirmed(request.form):
        fee = release_fee(g.tenant, number.kind)
        cost = (
            gettext("A cancellation fee of %(fee)s is added to your next statement.", fee=yen(fee))
            if fee
            else gettext("No cancellation fee during the trial.")
        )
        return confirmation_page(
            gettext("Release %(number)s?", number=national),
            [
                gettext(
                    "Calls to %(number)s stop reaching you at once. The number goes back to the platform"
                    " and may be given to another customer; you may not get it back.",
                    number=national,
                ),
                cost,
            ],
            gettext("Release %(number)s", number=national),
            url_for("numbers.edit", number_id=number_id),
        )
    try:
        save_tenant(
            g.tenant.id,
            lambda doc: release(doc, national),
            actor=actor(),
            action="number.release",
            summary=national,
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("numbers.index"))
    flash(gettext("Number %(number)s was released.", number=national), "ok")
    return redirect(url_for("numbers.index"))
