"""Ring groups: several phones ring for one number, all at once or one after another."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fsctl import models
from webpanel.extensions import db
from webpanel.security import admin_required, tenant_object
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor, destination_choices, destination_value, parse_destination
from webpanel.views.refs import rename_references

bp = Blueprint("ringgroups", __name__, url_prefix="/ring-groups")


def _index(doc: dict, name: str) -> int:
    for index, group in enumerate(doc["ring_groups"]):
        if group["name"] == name:
            return index
    abort(404)


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
    index = len(doc["ring_groups"])
    try:
        save_tenant(
            g.tenant.id,
            lambda d: d["ring_groups"].append(entry),
            actor=actor(),
            action="ring_group.add",
            summary=entry["name"],
        )
    except SaveRefused as refused:
        prefix = f"ring_groups[{index}]"
        return _render(doc, entry, refused.field_errors(prefix), refused.other_errors(prefix), None, 422)
    flash(gettext("Saved."), "ok")
    return redirect(url_for("ringgroups.index"))


@bp.route("/<int:group_id>", methods=["GET", "POST"])
@admin_required
def edit(group_id: int):
    group = tenant_object(models.RingGroup, group_id)
    doc = current_document(g.tenant)
    index = _index(doc, group.name)
    if request.method == "GET":
        return _render(doc, doc["ring_groups"][index], {}, [], group)
    entry = _entry_from_form(request.form)
    old_name = group.name

    def change(document: dict) -> None:
        document["ring_groups"][index] = entry
        if entry["name"] != old_name:
            rename_references(document, "ring_group", old_name, entry["name"])

    try:
        save_tenant(g.tenant.id, change, actor=actor(), action="ring_group.update", summary=old_name)
    except SaveRefused as refused:
        prefix = f"ring_groups[{index}]"
        return _render(doc, entry, refused.field_errors(prefix), refused.other_errors(prefix), group, 422)
    flash(gettext("Saved."), "ok")
    # apply_config matches by name: a renamed ringgroup is a new row with a new id.
    saved = db.session.scalar(
        select(models.RingGroup.id).where(
            models.RingGroup.tenant_id == g.tenant.id, models.RingGroup.name == entry["name"]
        )
    )
    return redirect(url_for("ringgroups.edit", group_id=saved))


@bp.post("/<int:group_id>/delete")
@admin_required
def delete(group_id: int):
    group = tenant_object(models.RingGroup, group_id)
    name = group.name
    try:
        save_tenant(
            g.tenant.id,
            lambda d: d["ring_groups"].pop(_index(d, name)),
            actor=actor(),
            action="ring_group.remove",
            summary=name,
        )
    except SaveRefused as refused:
        for path, message in refused.errors:
            flash(f"{path}: {message}", "error")
        return redirect(url_for("ringgroups.edit", group_id=group_id))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("ringgroups.index"))
