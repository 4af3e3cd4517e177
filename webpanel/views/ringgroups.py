"""Ring groups: several phones ring for one number, all at once or one after another."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fsctl import models
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.views.common import destination_choices, destination_value, parse_destination
from webpanel.views.sections import ListSection, SectionPages

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


PAGES = SectionPages(
    SECTION,
    bp,
    id_arg="group_id",
    entry_from_form=_entry_from_form,
    render=_render,
    blank=lambda: {"members": [], "ring_seconds": 20, "strategy": "simultaneous"},
)
PAGES.register(admin_required)
