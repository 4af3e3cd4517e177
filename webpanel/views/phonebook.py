"""The shared phonebook: the tenant's directory of outside contacts. A carrier call from one of an
entry's numbers rings the phones with the entry's name as the caller's name.

Every save goes through the tenant document (the tenant file's `phonebook:`), like the other pages;
an entry is addressed by its row id, whose place in the document is its place in id order.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from fsctl import models
from webpanel.document_edits import matches_contact, split_numbers
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.security import admin_required, tenant_object
from webpanel.tenantdoc import SaveRefused, current_document
from webpanel.views.common import save_or_refusal
from webpanel.views.phonebook_feed import current_feed

bp = Blueprint("phonebook", __name__, url_prefix="/phonebook")
KEY = "phonebook"


def entry_from_form(form: Any) -> dict:
    return {
        "name": form.get("name", "").strip(),
        "numbers": split_numbers(form.get("numbers", "")),
        "company": form.get("company", "").strip(),
        "note": form.get("note", "").strip(),
    }


def _index_of(entry_id: int) -> int:
    tenant_object(models.PhonebookEntry, entry_id)  # 404 unless it is this tenant's
    ids = db.session.scalars(
        select(models.PhonebookEntry.id)
        .where(models.PhonebookEntry.tenant_id == g.tenant.id)
        .order_by(models.PhonebookEntry.id)
    ).all()
    return list(ids).index(entry_id)


def _form(entry: dict, errors: dict, other: list, entry_id: int | None, status: int = 200):
    return (
        render_template(
            "phonebook/form.html", entry=entry, errors=errors, other_errors=other, entry_id=entry_id
        ),
        status,
    )


def _save(change, verb: str, summary: str) -> SaveRefused | None:
    return save_or_refusal(change, f"phonebook.{verb}", summary)


@bp.get("/")
@admin_required
def index():
    query = request.args.get("q", "").strip()
    doc = current_document(g.tenant)
    ids = db.session.scalars(
        select(models.PhonebookEntry.id)
        .where(models.PhonebookEntry.tenant_id == g.tenant.id)
        .order_by(models.PhonebookEntry.id)
    ).all()
    entries = [(i, e) for i, e in zip(ids, doc.get(KEY, []), strict=False) if matches_contact(e, query)]
    entries.sort(key=lambda pair: (pair[1]["company"], pair[1]["name"]))
    return render_template(
        "phonebook/index.html", entries=entries, query=query, total=len(ids), feed=current_feed(g.tenant.id)
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    if request.method == "GET":
        return _form({"numbers": []}, {}, [], None)
    entry = entry_from_form(request.form)
    index = len(current_document(g.tenant).get(KEY, []))
    refused = _save(lambda d: d.setdefault(KEY, []).append(entry), "add", entry["name"])
    if refused:
        return _form(entry, refused.field_errors((KEY, index)), refused.other_errors((KEY, index)), None, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("phonebook.index"))


@bp.route("/<int:entry_id>", methods=["GET", "POST"])
@admin_required
def edit(entry_id: int):
    index = _index_of(entry_id)
    if request.method == "GET":
        return _form(current_document(g.tenant)[KEY][index], {}, [], entry_id)
    entry = entry_from_form(request.form)

    def change(document: dict) -> None:
        document[KEY][index] = entry

    refused = _save(change, "update", entry["name"])
    if refused:
        return _form(
            entry, refused.field_errors((KEY, index)), refused.other_errors((KEY, index)), entry_id, 422
        )
    flash(gettext("Saved."), "ok")
    return redirect(url_for("phonebook.index"))


@bp.post("/<int:entry_id>/delete")
@admin_required
def delete(entry_id: int):
    index = _index_of(entry_id)
    refused = _save(lambda d: d[KEY].pop(index), "remove", str(entry_id))
    if refused:
        flash_problems(refused.problems())
        return redirect(url_for("phonebook.edit", entry_id=entry_id))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("phonebook.index"))
