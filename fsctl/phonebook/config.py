"""The tenant file's `phonebook:` section (a fsctl.tenant_file Section): the tenant's shared entries.

Numbers are kept in national form whatever way they were written (03-1234-5678, +81312345678), so a
carrier call's caller number finds its entry. A number may belong to one entry only: the phones could
not show two names for it. The file stays the whole truth: entries it no longer lists are removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from fsctl import models
from fsctl.numbers import NumberError, to_national
from fsctl.tenant_file import ApplyContext, Document, FieldError, Known, SchemaPart, Section

MAX_NUMBERS = 5


class PhonebookNumber(fields.String):
    """A Japanese number in any usual writing, loaded in national form."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_national(text)
        except NumberError as exc:
            raise ValidationError(str(exc)) from exc


class EntrySchema(Schema):
    """One entry: a name, one to five numbers, a company and a note."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    numbers = fields.List(
        PhonebookNumber(validate=validate.Length(max=16)),
        required=True,
        validate=validate.Length(1, MAX_NUMBERS, error="one to five numbers"),
    )
    company = fields.String(validate=validate.Length(0, 100), load_default="")
    note = fields.String(validate=validate.Length(0, 500), load_default="")


def phonebook_errors(entries: list[dict[str, Any]]) -> list[FieldError]:
    """A number given to two entries (or twice to one)."""
    errors: list[FieldError] = []
    owner: dict[str, int] = {}
    for index, entry in enumerate(entries):
        for position, number in enumerate(entry["numbers"]):
            if number in owner:
                other = ("phonebook", owner[number])
                errors.append(
                    FieldError(
                        ("phonebook", index, "numbers", position),
                        f"{number} is already in another entry",
                        "phonebook_number_twice",
                        {"number": number, "other": other},
                    )
                )
            owner.setdefault(number, index)
    return errors


def _entries(session: Session, tenant_id: int) -> list[models.PhonebookEntry]:
    query = select(models.PhonebookEntry).where(models.PhonebookEntry.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(models.PhonebookEntry.id)))


def entry_values(entry: Mapping[str, Any]) -> dict[str, str]:
    """A loaded entry as its row's column values."""
    return {
        "name": entry["name"],
        "numbers": " ".join(entry["numbers"]),
        "company": entry["company"],
        "note": entry["note"],
    }


def apply_phonebook(session: Session, tenant: models.Tenant, entries: list[dict[str, Any]]) -> None:
    """Make the tenant's entries what `entries` says, in order, writing only rows that differ."""
    rows = _entries(session, tenant.id)
    for row in rows[len(entries) :]:
        session.delete(row)
    for index, entry in enumerate(entries):
        values = entry_values(entry)
        row = rows[index] if index < len(rows) else None
        if row is None:
            session.add(models.PhonebookEntry(tenant_id=tenant.id, **values))
            continue
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)


def entry_document(row: models.PhonebookEntry) -> dict[str, Any]:
    """A row in the file's format."""
    return {"name": row.name, "numbers": row.numbers.split(), "company": row.company, "note": row.note}


def export_phonebook(tenant: models.Tenant) -> list[dict[str, Any]]:
    session = object_session(tenant)
    if session is None or tenant.id is None:
        return []
    return [entry_document(row) for row in _entries(session, tenant.id)]


class PhonebookSection(Section):
    """The shared phonebook: names shown for carrier calls from its numbers."""

    name = "phonebook"

    def schema(self) -> SchemaPart:
        return SchemaPart(top={"phonebook": fields.List(fields.Nested(EntrySchema), load_default=list)})

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return phonebook_errors(data.get("phonebook", []))

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_phonebook(context.session, tenant, context.data.get("phonebook", []))

    def export(self, tenant: models.Tenant, document: Document) -> None:
        document["phonebook"] = export_phonebook(tenant)
