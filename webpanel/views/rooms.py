"""Conference rooms: a number of the tenant's numbering that callers dial to meet, with an optional PIN."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from webpanel.error_words import flash_problems
from webpanel.security import admin_required
from webpanel.tenantdoc import SaveRefused, current_document
from webpanel.views.common import save_or_refusal

bp = Blueprint("rooms", __name__, url_prefix="/conference-rooms")
KEY = "conference_rooms"


def entry_from_form(form: Any) -> dict:
    """A room from the form: an empty PIN means none."""
    return {
        "number": form.get("number", "").strip(),
        "name": form.get("name", "").strip(),
        "pin": form.get("pin", "").strip() or None,
        "max_members": form.get("max_members", "10").strip() or "10",
    }


def _position(doc: dict, number: str) -> int:
    for index, room in enumerate(doc.get(KEY, [])):
        if room["number"] == number:
            return index
    abort(404)


def _form(entry: dict, errors: dict, other: list, existing: str | None, status: int = 200):
    return render_template(
        "rooms/form.html", entry=entry, errors=errors, other_errors=other, existing=existing
    ), status


def _save(change, verb: str, number: str, index: int) -> SaveRefused | None:
    return save_or_refusal(change, f"conference_room.{verb}", number)


@bp.get("/")
@admin_required
def index():
    doc = current_document(g.tenant)
    return render_template("rooms/index.html", rooms=doc.get(KEY, []))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    if request.method == "GET":
        return _form({"max_members": 10}, {}, [], None)
    entry = entry_from_form(request.form)
    index = len(current_document(g.tenant).get(KEY, []))
    refused = _save(lambda d: d.setdefault(KEY, []).append(entry), "add", entry["number"], index)
    if refused:
        return _form(entry, refused.field_errors((KEY, index)), refused.other_errors((KEY, index)), None, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("rooms.index"))


@bp.route("/<number>", methods=["GET", "POST"])
@admin_required
def edit(number: str):
    doc = current_document(g.tenant)
    index = _position(doc, number)
    if request.method == "GET":
        return _form(doc[KEY][index], {}, [], number)
    entry = entry_from_form(request.form)

    def change(document: dict) -> None:
        document[KEY][_position(document, number)] = entry

    refused = _save(change, "update", number, index)
    if refused:
        return _form(
            entry, refused.field_errors((KEY, index)), refused.other_errors((KEY, index)), number, 422
        )
    flash(gettext("Saved."), "ok")
    return redirect(url_for("rooms.edit", number=entry["number"]))


@bp.post("/<number>/delete")
@admin_required
def delete(number: str):
    _position(current_document(g.tenant), number)

    def change(document: dict) -> None:
        document[KEY].pop(_position(document, number))

    refused = _save(change, "remove", number, 0)
    if refused:
        flash_problems(refused.problems())
        return redirect(url_for("rooms.edit", number=number))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("rooms.index"))
