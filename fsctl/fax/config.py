"""The tenant file's `fax:` section (a fsctl.tenant_file Section): which of the tenant's numbers
receive faxes, and the addresses each fax is mailed to as PDF.

A fax number is one of the file's `numbers` left without a destination: the fax receiver answers it.
The file stays the whole truth: fax numbers it no longer lists are routed by their destination again.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from fsctl import models
from fsctl.schemas import JapaneseNumber
from fsctl.tenant_file import ApplyContext, Document, FieldError, Known, SchemaPart, Section

MAX_EMAILS = 5


class FaxNumberSchema(Schema):
    """One fax number: the number (any written form, kept national) and up to five addresses."""

    class Meta:
        unknown = RAISE

    number = JapaneseNumber(required=True)
    emails = fields.List(
        fields.Email(validate=validate.Length(max=254)),
        validate=validate.Length(max=MAX_EMAILS, error="at most 5 addresses"),
        load_default=list,
    )


def fax_errors(data: Document) -> list[FieldError]:
    """A fax number listed twice, not one of the file's numbers, or also given a destination there."""
    errors: list[FieldError] = []
    numbers = {n["number"]: n for n in data.get("numbers", [])}
    seen: set[str] = set()
    for index, spec in enumerate(data.get("fax", [])):
        number, path = spec["number"], ("fax", index, "number")
        params = {"number": number}
        if number in seen:
            errors.append(FieldError(path, f"fax number {number} is listed twice", "fax_twice", params))
        elif number not in numbers:
            message = f"{number} is not one of the numbers of this file"
            errors.append(FieldError(path, message, "fax_not_a_number", params))
        elif numbers[number].get("destination") is not None:
            message = f"{number} has a destination under numbers; a fax number has none"
            errors.append(FieldError(path, message, "fax_number_has_destination", params))
        seen.add(number)
    return errors


def join_emails(emails: list[str]) -> str:
    return " ".join(emails)


def split_emails(emails: str) -> list[str]:
    return emails.split()


def fax_numbers_of(session: Session, tenant_id: int) -> dict[str, models.FaxNumber]:
    """The tenant's fax numbers by national number."""
    query = select(models.FaxNumber).where(models.FaxNumber.tenant_id == tenant_id)
    return {row.number: row for row in session.scalars(query)}


def apply_fax_numbers(session: Session, tenant: models.Tenant, specs: list[dict[str, Any]]) -> None:
    """Make the tenant's fax numbers what `specs` says, writing only what differs."""
    existing = fax_numbers_of(session, tenant.id)
    wanted = {spec["number"] for spec in specs}
    for number, row in existing.items():
        if number not in wanted:
            session.delete(row)
    for spec in specs:
        row = existing.get(spec["number"])
        if row is None:
            row = models.FaxNumber(tenant_id=tenant.id, number=spec["number"], emails="")
            session.add(row)
        emails = join_emails(spec["emails"])
        if row.emails != emails:
            row.emails = emails


def export_fax_numbers(tenant: models.Tenant) -> list[dict[str, Any]]:
    """The tenant's fax numbers in the file's format, by number."""
    session = object_session(tenant)
    if session is None or tenant.id is None:
        return []
    rows = sorted(fax_numbers_of(session, tenant.id).values(), key=lambda r: r.number)
    return [{"number": r.number, "emails": split_emails(r.emails)} for r in rows]


class FaxSection(Section):
    """Fax numbers: number, addresses."""

    name = "fax"

    def schema(self) -> SchemaPart:
        return SchemaPart(top={"fax": fields.List(fields.Nested(FaxNumberSchema), load_default=list)})

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return fax_errors(data)

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_fax_numbers(context.session, tenant, context.data.get("fax", []))

    def export(self, tenant: models.Tenant, document: Document) -> None:
        document["fax"] = export_fax_numbers(tenant)
