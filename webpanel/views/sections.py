"""One named list section of the tenant document (ring groups, schedules, IVR menus) and its CRUD pages.

`SectionPages` writes the add / edit / delete routes once for every such section. Each page edits one
entry of `document[key]`: add appends, edit replaces it in place (and, on a rename, every destination
naming it follows), delete pops it; `save_tenant` applies the whole document. The tenant file's apply
matches entries by name, so a renamed entry is a new row with a new id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from fsctl.tenant_file import Path
from webpanel.document_edits import rename_references
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.security import tenant_object
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor

Document = dict[str, Any]


@dataclass
class FormErrors:
    """A refused save, ready for the form: errors of this entry by field, and the rest as lines."""

    fields: dict[str, str] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListSection:
    """`document[key]`, a list of entries keyed by `name`, stored as rows of `model`.

    `kind` is how a destination names an entry ({kind: name}); audit actions are `<audit>.add` etc.
    """

    key: str
    model: type
    kind: str
    audit: str
    # Keys of an entry its form does not edit (a schedule's override): an edit keeps them.
    keep: tuple[str, ...] = ()

    def row(self, row_id: int) -> Any:
        """The signed-in tenant's row with this id, else 404."""
        return tenant_object(self.model, row_id)

    def position(self, doc: Document, name: str) -> int:
        """The index of the entry named `name`, else 404."""
        for index, entry in enumerate(doc[self.key]):
            if entry["name"] == name:
                return index
        abort(404)

    def add(self, doc: Document, entry: Document) -> FormErrors | None:
        """Append `entry`; None when saved, else the errors for the form."""
        index = len(doc[self.key])
        return self._save(lambda d: d[self.key].append(entry), "add", entry["name"], (self.key, index))

    def update(self, index: int, old_name: str, entry: Document) -> FormErrors | None:
        """Replace the entry at `index` (named `old_name`) by `entry`; None when saved."""

        def change(document: Document) -> None:
            old = document[self.key][index]
            for key in self.keep:
                if key in old and key not in entry:
                    entry[key] = old[key]
            document[self.key][index] = entry
            if entry["name"] != old_name:
                rename_references(document, self.kind, old_name, entry["name"])

        return self._save(change, "update", old_name, (self.key, index))

    def remove(self, name: str) -> bool:
        """Delete the entry named `name`; False (each error flashed) when refused."""
        try:
            save_tenant(
                g.tenant.id,
                lambda d: d[self.key].pop(self.position(d, name)),
                actor=actor(),
                action=f"{self.audit}.remove",
                summary=name,
            )
        except SaveRefused as refused:
            flash_problems(refused.problems())
            return False
        return True

    def saved_id(self, name: str) -> int | None:
        """The id of the row named `name` now (a rename made a new row)."""
        return db.session.scalar(
            select(self.model.id).where(self.model.tenant_id == g.tenant.id, self.model.name == name)
        )

    def _save(self, change, verb: str, summary: str, prefix: Path) -> FormErrors | None:
        try:
            save_tenant(g.tenant.id, change, actor=actor(), action=f"{self.audit}.{verb}", summary=summary)
        except SaveRefused as refused:
            return FormErrors(refused.field_errors(prefix), refused.other_errors(prefix))
        return None


# render(doc, entry, field errors, other errors, row or None, status) -> the form page.
Render = Callable[[Document, Document, dict[str, str], list[str], Any, int], Any]


@dataclass(frozen=True)
class SectionPages:
    """The add, edit and delete routes of one ListSection on `blueprint`.

    Endpoints `new` (GET/POST /new), `edit` (GET/POST /<id>) and `delete` (POST /<id>/delete);
    a page supplies how to read its form (`entry_from_form`), how to draw it (`render`) and what a
    new entry starts as (`blank`). A refused save draws the form again with status 422; a saved one
    redirects (to the list after an add, to the row's own page after an edit: its id changes with
    a rename).
    """

    section: ListSection
    blueprint: Blueprint
    id_arg: str
    entry_from_form: Callable[[Any], Document]
    render: Render
    blank: Callable[[], Document]

    def register(self, guard: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        """Add the three routes to the blueprint, each behind `guard` (a role check)."""
        bp, arg = self.blueprint, self.id_arg
        bp.add_url_rule("/new", "new", guard(self.new), methods=["GET", "POST"])
        bp.add_url_rule(f"/<int:{arg}>", "edit", guard(self.edit), methods=["GET", "POST"])
        bp.add_url_rule(f"/<int:{arg}>/delete", "delete", guard(self.delete), methods=["POST"])

    def _url(self, endpoint: str, **values: Any) -> str:
        return url_for(f"{self.blueprint.name}.{endpoint}", **values)

    def new(self):
        doc = current_document(g.tenant)
        if request.method == "GET":
            return self.render(doc, self.blank(), {}, [], None, 200)
        entry = self.entry_from_form(request.form)
        if refused := self.section.add(doc, entry):
            return self.render(doc, entry, refused.fields, refused.other, None, 422)
        flash(gettext("Saved."), "ok")
        return redirect(self._url("index"))

    def edit(self, **ids: int):
        row = self.section.row(ids[self.id_arg])
        doc = current_document(g.tenant)
        index = self.section.position(doc, row.name)
        if request.method == "GET":
            return self.render(doc, doc[self.section.key][index], {}, [], row, 200)
        entry = self.entry_from_form(request.form)
        if refused := self.section.update(index, row.name, entry):
            return self.render(doc, entry, refused.fields, refused.other, row, 422)
        flash(gettext("Saved."), "ok")
        return redirect(self._url("edit", **{self.id_arg: self.section.saved_id(entry["name"])}))

    def delete(self, **ids: int):
        row = self.section.row(ids[self.id_arg])
        if not self.section.remove(row.name):
            return redirect(self._url("edit", **{self.id_arg: ids[self.id_arg]}))
        flash(gettext("Removed."), "ok")
        return redirect(self._url("index"))
