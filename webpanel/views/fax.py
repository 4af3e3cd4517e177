"""FAX to e-mail in the panel: the faxes the tenant's fax numbers received (each as PDF, to view,
download or delete) and, on a number's page, whether it receives faxes and whom they are mailed to."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext

from fsctl import models
from fsctl.fax.inbox import delete_fax, fax_pdf, tenant_fax, tenant_faxes
from webpanel.document_edits import clear_fax, set_fax, split_addresses
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.security import admin_required, tenant_object
from webpanel.tenantdoc import SaveRefused, save_tenant
from webpanel.views.common import actor, checkbox, confirmation_page, confirmed

bp = Blueprint("fax", __name__, url_prefix="/fax")


def local_time(value: dt.datetime, timezone: str) -> str:
    """2026/12/07 18:30 on the tenant's clock (a fax is dated where the office is)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(timezone or "Asia/Tokyo")).strftime("%Y/%m/%d %H:%M")


def _own_fax(fax_id: int) -> models.FaxMessage:
    fax = tenant_fax(db.session, g.tenant.id, fax_id)
    if fax is None:
        abort(404)
    return fax


@bp.get("/")
@admin_required
def index():
    faxes = tenant_faxes(db.session, g.tenant.id)
    times = {fax.id: local_time(fax.received_at, g.tenant.timezone) for fax in faxes}
    return render_template("fax/index.html", faxes=faxes, times=times)


@bp.get("/<int:fax_id>.pdf")
@admin_required
def pdf(fax_id: int):
    """The fax's PDF, shown in the browser (or saved with ?download=1)."""
    fax = _own_fax(fax_id)
    path = fax_pdf(fax)
    if path is None:
        abort(404)
    name = f"fax-{fax.received_at:%Y%m%d-%H%M}-{fax.sender or 'unknown'}.pdf"
    return send_file(
        path,
        mimetype="application/pdf",
        download_name=name,
        as_attachment=request.args.get("download") == "1",
    )


@bp.post("/<int:fax_id>/delete")
@admin_required
def delete(fax_id: int):
    fax = _own_fax(fax_id)
    if not confirmed(request.form):
        when = local_time(fax.received_at, g.tenant.timezone)
        return confirmation_page(
            gettext("Delete the fax from %(sender)s?", sender=fax.sender or gettext("withheld number")),
            [gettext("The fax received %(when)s and its PDF are deleted for good.", when=when)],
            gettext("Delete"),
            url_for("fax.index"),
        )
    delete_fax(db.session, fax)
    db.session.commit()
    flash(gettext("Deleted."), "ok")
    return redirect(url_for("fax.index"))


@bp.post("/numbers/<int:number_id>")
@admin_required
def number(number_id: int):
    """Make one of the tenant's numbers a fax number (with the addresses) or stop it receiving faxes."""
    row = tenant_object(models.Number, number_id)
    national = row.national
    emails = split_addresses(request.form.get("emails", ""))
    receives = checkbox(request.form, "fax")
    try:
        save_tenant(
            g.tenant.id,
            lambda doc: set_fax(doc, national, emails) if receives else clear_fax(doc, national),
            actor=actor(),
            action="number.fax" if receives else "number.fax_off",
            summary=national,
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("numbers.edit", number_id=number_id))
    flash(gettext("Saved."), "ok")
    return redirect(url_for("numbers.edit", number_id=number_id))
