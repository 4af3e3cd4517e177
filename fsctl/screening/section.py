"""The tenant file's `screening:` section (a fsctl.tenant_file Section): check, apply, export.

The file stays the whole truth: a number or user it does not name refuses no caller, and the
blocklist is exactly the file's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from fsctl import models
from fsctl.numbers import NumberError, to_national
from fsctl.screening.schema import caller_text, parse_caller, schema_part
from fsctl.tenant_file import ApplyContext, Document, FieldError, Known, SchemaPart, Section


def file_numbers(data: Document) -> set[str]:
    """The tenant's platform numbers the file names (numbers and users' direct numbers)."""
    return {n["number"] for n in data["numbers"]} | {u["did"] for u in data["users"] if u.get("did")}


def screening_errors(data: Document, known: Known) -> list[FieldError]:
    """Numbers and users that the file does not hold, refusals naming nothing, callers listed twice."""
    errors: list[FieldError] = []
    screening = data.get("screening") or {}
    anonymous = screening.get("anonymous") or {}
    numbers = file_numbers(data)
    for key, kinds in (anonymous.get("numbers") or {}).items():
        path = ("screening", "anonymous", "numbers", key)
        try:
            national = to_national(key)
        except NumberError:
            national = None
        if national not in numbers:
            errors.append(
                FieldError(
                    path, f"{key} is not a number of this tenant", "screening_unknown_number", {"number": key}
                )
            )
        if not kinds:
            errors.append(
                FieldError(path, "name at least one of withheld, payphone, unavailable", "screening_no_kind")
            )
    for key, kinds in (anonymous.get("users") or {}).items():
        path = ("screening", "anonymous", "users", key)
        if key not in known.get("user", set()):
            errors.append(
                FieldError(path, f"no user {key} in this file", "screening_unknown_user", {"extension": key})
            )
        if not kinds:
            errors.append(
                FieldError(path, "name at least one of withheld, payphone, unavailable", "screening_no_kind")
            )
    callers = Counter(entry["caller"] for entry in screening.get("blocklist") or [])
    for index, entry in enumerate(screening.get("blocklist") or []):
        if callers[entry["caller"]] > 1:
            errors.append(
                FieldError(
                    ("screening", "blocklist", index, "caller"),
                    f"{entry['caller']} is listed more than once",
                    "screening_listed_twice",
                    {"caller": entry["caller"]},
                )
            )
    return errors


def _refuse(kinds: list[str]) -> str:
    """The stored form: the kinds in their fixed order, comma-separated."""
    return ",".join(k for k in models.ANONYMOUS_KINDS if k in kinds)


def apply_screening(applier: ApplyContext, tenant: models.Tenant) -> None:
    """Make the tenant's refusals and blocklist what the file says, writing only what differs."""
    session: Session = applier.session
    screening = applier.data.get("screening") or {}
    anonymous = screening.get("anonymous") or {}
    number_ids: dict[str, int] = {
        national: nid
        for national, nid in session.execute(
            select(models.Number.national, models.Number.id).where(models.Number.tenant_id == tenant.id)
        )
    }
    user_ids: dict[str, int] = {
        extension: uid
        for extension, uid in session.execute(
            select(models.User.extension, models.User.id).where(models.User.tenant_id == tenant.id)
        )
    }
    wanted: dict[tuple[str, int], str] = {}
    for key, kinds in (anonymous.get("numbers") or {}).items():
        national = to_national(key)
        if national in number_ids:
            wanted[("number", number_ids[national])] = _refuse(kinds)
    for key, kinds in (anonymous.get("users") or {}).items():
        if key in user_ids:
            wanted[("user", user_ids[key])] = _refuse(kinds)
    rows = session.scalars(
        select(models.AnonymousRefusal).where(models.AnonymousRefusal.tenant_id == tenant.id)
    )
    for row in rows:
        key = ("number", row.number_id) if row.number_id is not None else ("user", row.user_id)
        refuse = wanted.pop(key, None)  # type: ignore[arg-type]
        if refuse is None:
            session.delete(row)
        elif row.refuse != refuse:
            row.refuse = refuse
    for (kind, target), refuse in wanted.items():
        session.add(
            models.AnonymousRefusal(
                tenant_id=tenant.id,
                number_id=target if kind == "number" else None,
                user_id=target if kind == "user" else None,
                refuse=refuse,
            )
        )
    blocked: dict[tuple[str, bool], dict[str, Any]] = {}
    for entry in screening.get("blocklist") or []:
        blocked[parse_caller(entry["caller"])] = entry
    current = session.scalars(select(models.BlockedCaller).where(models.BlockedCaller.tenant_id == tenant.id))
    for row in current:
        entry = blocked.pop((row.pattern, row.prefix), None)
        if entry is None:
            session.delete(row)
            continue
        if row.action != entry["action"]:
            row.action = entry["action"]
        if row.note != entry["note"]:
            row.note = entry["note"]
    for (pattern, prefix), entry in blocked.items():
        session.add(
            models.BlockedCaller(
                tenant_id=tenant.id,
                pattern=pattern,
                prefix=prefix,
                action=entry["action"],
                note=entry["note"],
            )
        )
    session.flush()


def export_screening(session: Session, tenant_id: int) -> dict[str, Any] | None:
    """The `screening:` part of an export, or None when the tenant screens nothing."""
    numbers = {
        national: refuse.split(",")
        for national, refuse in session.execute(
            select(models.Number.national, models.AnonymousRefusal.refuse)
            .join(models.Number, models.Number.id == models.AnonymousRefusal.number_id)
            .where(models.AnonymousRefusal.tenant_id == tenant_id)
            .order_by(models.Number.national)
        )
    }
    users = {
        extension: refuse.split(",")
        for extension, refuse in session.execute(
            select(models.User.extension, models.AnonymousRefusal.refuse)
            .join(models.User, models.User.id == models.AnonymousRefusal.user_id)
            .where(models.AnonymousRefusal.tenant_id == tenant_id)
            .order_by(models.User.extension)
        )
    }
    blocklist = []
    for row in session.scalars(
        select(models.BlockedCaller)
        .where(models.BlockedCaller.tenant_id == tenant_id)
        .order_by(models.BlockedCaller.pattern, models.BlockedCaller.prefix)
    ):
        entry: dict[str, Any] = {"caller": caller_text(row.pattern, row.prefix)}
        if row.action != "announce":
            entry["action"] = row.action
        if row.note:
            entry["note"] = row.note
        blocklist.append(entry)
    if not numbers and not users and not blocklist:
        return None
    out: dict[str, Any] = {}
    if numbers or users:
        out["anonymous"] = {k: v for k, v in (("numbers", numbers), ("users", users)) if v}
    if blocklist:
        out["blocklist"] = blocklist
    return out


class ScreeningSection(Section):
    """非通知拒否 and the blocklist in the tenant file."""

    name = "screening"

    def schema(self) -> SchemaPart:
        return schema_part()

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return screening_errors(data, known)

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_screening(context, tenant)

    def export(self, tenant: models.Tenant, document: Document) -> None:
        session = object_session(tenant)
        part = export_screening(session, tenant.id) if session is not None else None
        if part is not None:
            document["screening"] = part
