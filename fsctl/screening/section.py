"""The tenant file's `screening:` section (a fsctl.tenant_file Section): check, apply, export.

The file stays the whole truth: a number or user it does not name refuses no caller, and the
blocklist is exactly the file's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Integer, cast, literal, null, select, union_all
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
    session.flush()  # ids of the numbers and users this apply added
    # The tenant's rows as the apply holds them (no second read of its users and numbers).
    number_ids = {n.national: n.id for n in tenant.numbers}
    user_ids = {u.extension: u.id for u in tenant.users}
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


def export_screening(session: Session, tenant: models.Tenant) -> dict[str, Any] | None:
    """The `screening:` part of an export, or None when the tenant screens nothing.

    One query for both tables (an export reads each table once, whatever the tenant's size); numbers
    and users are named from the tenant's rows the export has loaded already."""
    refusal, blocked = models.AnonymousRefusal, models.BlockedCaller
    rows = session.execute(
        union_all(
            select(
                literal("anonymous").label("part"),
                refusal.number_id,
                refusal.user_id,
                refusal.refuse.label("text"),
                literal(False).label("prefix"),
                literal("").label("action"),
                literal("").label("note"),
            ).where(refusal.tenant_id == tenant.id),
            select(
                literal("blocklist"),
                # Typed NULLs: PostgreSQL resolves each UNION column from both branches' types.
                cast(null(), Integer),
                cast(null(), Integer),
                blocked.pattern,
                blocked.prefix,
                blocked.action,
                blocked.note,
            ).where(blocked.tenant_id == tenant.id),
        )
    ).all()
    national = {n.id: n.national for n in tenant.numbers}
    extension = {u.id: u.extension for u in tenant.users}
    numbers: dict[str, list[str]] = {}
    users: dict[str, list[str]] = {}
    entries: list[tuple[str, bool, str, str]] = []
    for part, number_id, user_id, text, prefix, action, note in rows:
        if part == "blocklist":
            entries.append((text, bool(prefix), action, note))
        elif number_id in national:
            numbers[national[number_id]] = text.split(",")
        elif user_id in extension:
            users[extension[user_id]] = text.split(",")
    blocklist = []
    for pattern, prefix, action, note in sorted(entries):
        entry: dict[str, Any] = {"caller": caller_text(pattern, prefix)}
        if action != "announce":
            entry["action"] = action
        if note:
            entry["note"] = note
        blocklist.append(entry)
    if not numbers and not users and not blocklist:
        return None
    out: dict[str, Any] = {}
    if numbers or users:
        out["anonymous"] = {
            key: dict(sorted(table.items()))
            for key, table in (("numbers", numbers), ("users", users))
            if table
        }
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
        part = export_screening(session, tenant) if session is not None else None
        if part is not None:
            document["screening"] = part
