"""Caller screening: the blocklist (add, remove, CSV import) and 非通知拒否 per number and per user.

Every change is an edit of the tenant document applied by the tenant file (fsctl.screening.section),
so the panel, the API and `fsctl apply` check and store it the same way.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from webpanel.document_edits import (
    ANONYMOUS_KINDS,
    block_caller,
    blocklist_rows,
    number_destinations,
    screening_of,
    set_anonymous,
    unblock_caller,
)
from webpanel.security import admin_required, safe_next
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor

bp = Blueprint("screening", __name__, url_prefix="/screening")
MAX_CSV_BYTES = 256 * 1024


def _page(doc: dict | None = None, errors: dict | None = None, form: dict | None = None, status: int = 200):
    doc = doc or current_document(g.tenant)
    screening = screening_of(doc)
    return (
        render_template(
            "screening/index.html",
            screening=screening,
            numbers=sorted(number_destinations(doc)),
            users=[u["extension"] for u in doc["users"]],
            kinds=ANONYMOUS_KINDS,
            errors=errors or {},
            form=form or {},
        ),
        status,
    )


def _save(change, action: str, summary: str, form: dict | None = None):
    try:
        save_tenant(g.tenant.id, change, actor=actor(), action=action, summary=summary)
    except SaveRefused as refused:
        doc = current_document(g.tenant)
        change(doc)
        return _page(doc, refused.field_errors(("screening",)), form, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("screening.index"))


@bp.get("/")
@admin_required
def index():
    return _page()


@bp.post("/blocklist")
@admin_required
def add():
    caller = request.form.get("caller", "").strip()
    action = request.form.get("action", "announce")
    note = request.form.get("note", "").strip()
    form = {"caller": caller, "action": action, "note": note}
    if not caller:
        return _page(
            errors={"blocklist": gettext("Enter a number, or the first digits followed by *.")},
            form=form,
            status=422,
        )
    return _save(lambda d: block_caller(d, caller, action, note), "screening.block", caller, form)


@bp.post("/blocklist/remove")
@admin_required
def remove():
    caller = request.form.get("caller", "")
    return _save(lambda d: unblock_caller(d, caller), "screening.unblock", caller)


@bp.post("/blocklist/import")
@admin_required
def import_csv():
    upload = request.files.get("file")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload is not None else request.form.get("text", "").encode()
    if len(raw) > MAX_CSV_BYTES:
        return _page(errors={"import": gettext("The file is too large.")}, status=422)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp932", errors="replace")  # Excel in Japan saves CSV as Shift_JIS
    entries = blocklist_rows(text)
    if not entries:
        return _page(errors={"import": gettext("No numbers found: one number per line.")}, status=422)

    def change(doc: dict) -> None:
        for entry in entries:
            block_caller(doc, entry["caller"], entry["action"], entry["note"])

    return _save(change, "screening.import", f"{len(entries)} callers")


@bp.post("/anonymous")
@admin_required
def anonymous():
    doc = current_document(g.tenant)
    numbers = sorted(number_destinations(doc))
    users = [u["extension"] for u in doc["users"]]

    def change(document: dict) -> None:
        for kind, keys in (("numbers", numbers), ("users", users)):
            for key in keys:
                refused = [k for k in ANONYMOUS_KINDS if request.form.get(f"{kind}.{key}.{k}")]
                set_anonymous(document, kind, key, refused)

    return _save(change, "screening.anonymous", "anonymous callers")


@bp.app_context_processor
def _anonymous_setting():
    """`anonymous_refused(kind, key)` for the number and user pages' own 非通知拒否 card."""

    def anonymous_refused(kind: str, key: str) -> list[str]:
        doc = current_document(g.tenant)
        return list(screening_of(doc)["anonymous"][kind].get(key, []))

    return {"anonymous_refused": anonymous_refused, "anonymous_kinds": ANONYMOUS_KINDS}


@bp.post("/anonymous/<any(numbers, users):kind>/<key>")
@admin_required
def anonymous_one(kind: str, key: str):
    """One number's or user's setting, from its own page (back to that page when saved)."""
    doc = current_document(g.tenant)
    owned = (
        {n["number"] for n in doc["numbers"]} if kind == "numbers" else {u["extension"] for u in doc["users"]}
    )
    if key not in owned:
        abort(404)  # another tenant's number or extension is nothing of this tenant's (no IDOR)
    refused = [k for k in ANONYMOUS_KINDS if request.form.get(k)]
    back = request.form.get("next", "")
    try:
        save_tenant(
            g.tenant.id,
            lambda d: set_anonymous(d, kind, key, refused),
            actor=actor(),
            action="screening.anonymous",
            summary=key,
        )
    except SaveRefused as refused_save:
        for message in refused_save.field_errors(("screening",)).values():
            flash(message, "error")
    else:
        flash(gettext("Saved."), "ok")
    # Only a page of this panel: never an address a form could smuggle in.
    return redirect(safe_next(back, url_for("screening.index")))
