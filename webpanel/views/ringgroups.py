"""Ring groups: several phones ring for one number, all at once or one after another."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fsctl import models
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.tenantdoc import current_document
from webpanel.views.common import destination_choices, destination_value, parse_destination
from webpanel.views.sections import ListSection

bp = Blueprint("ringgroups", __name__, url_prefix="/ring-groups")
SECTION = ListSection("ring_groups", models.RingGroup, kind="ring_group", audit="ring_group")


def _entry_from_form(form: Any) -> dict:
    return {
        "name": form.get("name", "").strip(),
        # Members in ringing order ("101, 102 103"): the order matters for sequential groups.
        "members": [m for m in re.split(r"[\s,、]+", form.get("members", "")) if m],
        "strategy": form.get("strategy", "simultaneous"),
        "ring_seconds": form.get("ring_seconds", "20").strip() or "20",
        "no_answer": parse_destination(form, "no_answer"),
    }


def _render(
    doc: dict, entry: dict, errors: dict, other: list[str], group: models.RingGroup | None, status: int = 200
):
    return (
        render_template(
            "ringgroups/form.html",
            doc=doc,
            entry=entry,
            errors=errors,
            other_errors=other,
            group=group,
            choices=destination_choices(doc),
            no_answer=destination_value(entry.get("no_answer")),
        ),
        status,
    )


@bp.get("/")
@admin_required
def index():
    groups = db.session.scalars(
        select(models.RingGroup)
        .where(models.RingGroup.tenant_id == g.tenant.id)
        .order_by(models.RingGroup.name)
        .options(selectinload(models.RingGroup.members).selectinload(models.RingGroupMember.user))
    ).all()
    return render_template("ringgroups/index.html", groups=groups)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    doc = current_document(g.tenant)
    if request.method == "GET":
        return _render(doc, {"members": [], "ring_seconds": 20, "strategy": "simultaneous"}, {}, [], None)
    entry = _entry_from_form(request.form)
    if refused := SECTION.add(doc, entry):
        return _render(doc, entry, refused.fields, refused.other, None, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("ringgroups.index"))


@bp.route("/<int:group_id>", methods=["GET", "POST"])
@admin_required
def edit(group_id: int):
    group = SECTION.row(group_id)
    doc = current_document(g.tenant)
    index = SECTION.position(doc, group.name)
    if request.method == "GET":
        return _render(doc, doc["ring_groups"][index], {}, [], group)
    entry = _entry_from_form(request.form)
    if refused := SECTION.update(index, group.name, entry):
        return _render(doc, entry, refused.fields, refused.other, group, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("ringgroups.edit", group_id=SECTION.saved_id(entry["name"])))


@bp.post("/<int:group_id>/delete")
@admin_required
def delete(group_id: int):
    group = SECTION.row(group_id)
    if not SECTION.remove(group.name):
        return redirect(url_for("ringgroups.edit", group_id=group_id))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("ringgroups.index"))
