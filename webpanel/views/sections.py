"""One named list section of the tenant document (ring groups, schedules, IVR menus) for the CRUD pages.

Each page edits one entry of `document[key]`: add appends, edit replaces it in place (and, on a
rename, every destination naming it follows), delete pops it; `save_tenant` applies the whole
document. apply_config matches entries by name, so a renamed entry is a new row with a new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, g
from sqlalchemy import select

from fsctl.tenant_file import Path
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.security import tenant_object
from webpanel.tenantdoc import SaveRefused, save_tenant
from webpanel.views.common import actor
from webpanel.views.refs import rename_references

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
