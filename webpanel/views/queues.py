"""Call queues (ACD): callers wait with music and hear their position until an agent who is logged in
answers; after the maximum wait they go on to the overflow. The page also logs agents in and out (as
their phones do with *51 / *52) and shows who waits now."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from fsctl.queues.agents import set_agent_login
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.queue_state import agent_rows, waiting_callers
from webpanel.security import admin_required
from webpanel.tenantdoc import SaveRefused, current_document
from webpanel.views.common import (
    actor,
    destination_choices,
    destination_value,
    parse_destination,
    save_or_refusal,
)

bp = Blueprint("queues", __name__, url_prefix="/call-queues")
KEY = "call_queues"
BLANK = {"agents": [], "strategy": "longest_idle", "max_wait_seconds": 120, "agent_ring_seconds": 15}


def entry_from_form(form: Any) -> dict:
    """A queue from the form: agents as extensions in order ("101, 102")."""
    return {
        "number": form.get("number", "").strip(),
        "name": form.get("name", "").strip(),
        "agents": [a for a in re.split(r"[\s,、]+", form.get("agents", "")) if a],
        "strategy": form.get("strategy", "longest_idle"),
        "max_wait_seconds": form.get("max_wait_seconds", "120").strip() or "120",
        "agent_ring_seconds": form.get("agent_ring_seconds", "15").strip() or "15",
        "announce_position": form.get("announce_position") == "on",
        "overflow": parse_destination(form, "overflow"),
    }


def _position(doc: dict, number: str) -> int:
    for index, queue in enumerate(doc.get(KEY, [])):
        if queue["number"] == number:
            return index
    abort(404)


def _form(doc: dict, entry: dict, errors: dict, other: list, existing: str | None, status: int = 200):
    return (
        render_template(
            "queues/form.html",
            doc=doc,
            entry=entry,
            errors=errors,
            other_errors=other,
            existing=existing,
            choices=destination_choices(doc),
            overflow=destination_value(entry.get("overflow")),
        ),
        status,
    )


def _save(change, verb: str, number: str) -> SaveRefused | None:
    return save_or_refusal(change, f"call_queue.{verb}", number)


@bp.get("/")
@admin_required
def index():
    doc = current_document(g.tenant)
    return render_template(
        "queues/index.html",
        queues=doc.get(KEY, []),
        agents=agent_rows(db.session, g.tenant.id),
        waiting=waiting_callers(db.session, g.tenant),
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    doc = current_document(g.tenant)
    if request.method == "GET":
        return _form(doc, dict(BLANK, announce_position=True), {}, [], None)
    entry = entry_from_form(request.form)
    index = len(doc.get(KEY, []))
    refused = _save(lambda d: d.setdefault(KEY, []).append(entry), "add", entry["number"])
    if refused:
        where = (KEY, index)
        return _form(doc, entry, refused.field_errors(where), refused.other_errors(where), None, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("queues.index"))


@bp.route("/<queue>", methods=["GET", "POST"])
@admin_required
def edit(queue: str):
    number = queue
    doc = current_document(g.tenant)
    index = _position(doc, number)
    if request.method == "GET":
        return _form(doc, doc[KEY][index], {}, [], number)
    entry = entry_from_form(request.form)

    def change(document: dict) -> None:
        document[KEY][_position(document, number)] = entry

    refused = _save(change, "update", number)
    if refused:
        where = (KEY, index)
        return _form(doc, entry, refused.field_errors(where), refused.other_errors(where), number, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("queues.edit", queue=entry["number"]))


@bp.post("/<queue>/delete")
@admin_required
def delete(queue: str):
    number = queue
    _position(current_document(g.tenant), number)

    def change(document: dict) -> None:
        document[KEY].pop(_position(document, number))

    refused = _save(change, "remove", number)
    if refused:
        flash_problems(refused.problems())
        return redirect(url_for("queues.edit", queue=number))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("queues.index"))


@bp.post("/agents/<extension>")
@admin_required
def agent(extension: str):
    """Log an agent in or out of all their queues (form field `logged_in`: on / off)."""
    logged_in = request.form.get("logged_in") == "on"
    changed = set_agent_login(db.session, g.tenant.id, extension, logged_in, actor())
    if changed is None:
        abort(404)
    db.session.commit()
    flash(
        gettext("%(ext)s logged in.", ext=extension)
        if logged_in
        else gettext("%(ext)s logged out.", ext=extension),
        "ok",
    )
    return redirect(url_for("queues.index"))
