"""Checking a tenant file: its schema, then what its entries name (duplicates, dangling references),
then every section's own checks, then the routing checks. Nothing here touches the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import ValidationError

from fsctl.numbering import NumberingPlan
from fsctl.routing.validate import validate_routing
from fsctl.tenant_file.errors import ConfigError, FieldError, Path, marshmallow_errors, path_text
from fsctl.tenant_file.schema import FileSchema
from fsctl.tenant_file.section import Document, Known, Section

Dest = tuple[str, str | None]
FORWARD_KINDS = ("always", "busy", "no_answer", "unregistered")


def load_document(
    raw: Any,
    schema: FileSchema,
    sections: Sequence[Section],
    numbering: NumberingPlan,
    audio_names: Callable[[str], set[str]] | None = None,
) -> Document:
    """Validate a parsed YAML document; raises ConfigError listing every problem.

    `audio_names(domain)`: the tenant's uploaded audio; when given, announcements must name one of them.
    """
    if not isinstance(raw, dict):
        raise ConfigError([FieldError((), "must be a mapping with domain, name, users, ...")])
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        raise ConfigError(marshmallow_errors(exc.messages)) from exc
    errors = reference_errors(data, sections, None if audio_names is None else audio_names(data["domain"]))
    if not errors:
        # Routing checks assume the references resolve.
        errors = [FieldError(*problem) for problem in validate_routing(data, numbering)]
    if errors:
        raise ConfigError(errors)
    for section in sections:
        section.complete(data)
    return data


def _first_seen(items: list[Any], key) -> dict[Any, int]:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        seen.setdefault(key(item), index)
    return seen


def known_names(data: Document, audio_names: set[str] | None = None) -> dict[str, set[str]]:
    """What each destination kind may name (announcements: only when the tenant's uploads are known)."""
    extensions = {u["extension"] for u in data["users"]}
    known = {
        "user": extensions,
        "voicemail": extensions,
        "ring_group": {g["name"] for g in data["ring_groups"]},
        "ivr": {m["name"] for m in data["ivr_menus"]},
        "schedule": {s["name"] for s in data["schedules"]},
    }
    if audio_names is not None:
        known["announcement"] = audio_names
    return known


def destination_error(path: Path, dest: Dest | None, known: Known) -> FieldError | None:
    """The problem of a destination that names nothing in the file (None: it is fine)."""
    if dest is None:
        return None
    kind, target = dest
    if kind not in known or target in known[kind]:
        return None
    if kind == "announcement":
        return FieldError(
            (*path, kind),
            f"no uploaded audio named {target!r} (upload it first)",
            "no_audio",
            {"name": target},
        )
    return FieldError((*path, kind), f"{target!r} does not exist in this file", "missing", {"name": target})


def reference_errors(
    data: Document, sections: Sequence[Section] = (), audio_names: set[str] | None = None
) -> list[FieldError]:
    """Duplicates and destinations that name nothing, in the core's parts and then each section's."""
    errors: list[FieldError] = []

    def unique(section: str, field: str, key) -> None:
        first = _first_seen(data[section], key)
        for index, item in enumerate(data[section]):
            if first[key(item)] != index:
                other = (section, first[key(item)])
                errors.append(
                    FieldError(
                        (section, index, field),
                        f"already used by {path_text(other)}",
                        "duplicate",
                        {"other": other},
                    )
                )

    unique("users", "extension", lambda u: u["extension"])
    unique("ring_groups", "name", lambda g: g["name"])
    unique("schedules", "name", lambda s: s["name"])
    unique("ivr_menus", "name", lambda m: m["name"])
    unique("numbers", "number", lambda n: n["number"])

    known = known_names(data, audio_names)
    extensions, schedules = known["user"], known["schedule"]
    listed_numbers = {n["number"] for n in data["numbers"]}
    owned = listed_numbers | {u["did"] for u in data["users"] if u["did"]}
    for section in sections:
        owned |= section.numbers(data)  # a user may present a number a section gives the tenant

    did_owner = _first_seen([u["did"] for u in data["users"]], lambda did: did)
    for index, user in enumerate(data["users"]):
        did, here = user["did"], ("users", index)
        if did and did in listed_numbers:
            errors.append(
                FieldError(
                    (*here, "did"),
                    f"{did} is also listed under numbers; give it one destination",
                    "did_also_number",
                    {"number": did},
                )
            )
        if did and did_owner[did] != index:
            other = ("users", did_owner[did])
            errors.append(
                FieldError(
                    (*here, "did"), f"already the did of {path_text(other)}", "did_taken", {"other": other}
                )
            )
        if user["caller_id"] and user["caller_id"] not in owned:
            errors.append(
                FieldError(
                    (*here, "caller_id"),
                    f"{user['caller_id']} is not one of this tenant's numbers",
                    "not_own_number",
                    {"number": user["caller_id"]},
                )
            )
        if user["schedule"] and user["schedule"] not in schedules:
            errors.append(
                FieldError(
                    (*here, "schedule"),
                    f"no schedule named {user['schedule']!r}",
                    "no_schedule",
                    {"name": user["schedule"]},
                )
            )

    def check_dest(path: Path, dest: Dest | None) -> None:
        if (error := destination_error(path, dest, known)) is not None:
            errors.append(error)

    for index, user in enumerate(data["users"]):
        for kind in FORWARD_KINDS:
            check_dest(("users", index, "forward", kind), user["forward"][kind])
    for index, number in enumerate(data["numbers"]):
        check_dest(("numbers", index, "destination"), number["destination"])
    for index, group in enumerate(data["ring_groups"]):
        here = ("ring_groups", index)
        if not group["members"]:
            errors.append(FieldError((*here, "members"), "a ring group needs at least one member"))
        for position, member in enumerate(group["members"]):
            if member not in extensions:
                errors.append(
                    FieldError(
                        (*here, "members", position),
                        f"no user with extension {member}",
                        "no_user",
                        {"extension": member},
                    )
                )
        for member, count in Counter(group["members"]).items():
            if count > 1:
                errors.append(
                    FieldError(
                        (*here, "members"),
                        f"{member} is listed {count} times",
                        "listed_twice",
                        {"extension": member, "count": count},
                    )
                )
        check_dest((*here, "no_answer"), group["no_answer"])
    for index, schedule in enumerate(data["schedules"]):
        here = ("schedules", index)
        check_dest((*here, "open_destination"), schedule["open_destination"])
        check_dest((*here, "closed_destination"), schedule["closed_destination"])
        for kind in ("open_destination", "closed_destination"):
            if schedule[kind] and schedule[kind][0] == "schedule":
                errors.append(FieldError((*here, kind), "a schedule cannot lead to another schedule"))
        if schedule["override"] and schedule["override"]["until"] is not None:
            text = schedule["override"]["until"]
            if (problem := until_problem(text)) is not None:
                errors.append(FieldError((*here, "override", "until"), *problem))
        for position, period in enumerate(schedule["open"]):
            if minutes(period["to"]) == minutes(period["from_"]):
                errors.append(
                    FieldError(
                        (*here, "open", position), "from and to are equal (use 00:00-24:00 for all day)"
                    )
                )
    for index, menu in enumerate(data["ivr_menus"]):
        for digit, dest in menu["options"].items():
            check_dest(("ivr_menus", index, "options", digit), dest)
        check_dest(("ivr_menus", index, "timeout_destination"), menu["timeout_destination"])
    if data["park"]:
        first, last = (int(x) for x in data["park"]["slots"].split("-"))
        if last < first:
            errors.append(FieldError(("park", "slots"), "the range ends before it starts"))
        elif clash := sorted(e for e in extensions if first <= int(e) <= last):
            shown = ", ".join(clash)
            errors.append(
                FieldError(
                    ("park", "slots"),
                    f"overlaps the extensions {shown}",
                    "park_overlap",
                    {"extensions": shown},
                )
            )
    for section in sections:
        errors.extend(section.check(data, known))
    return errors


def parse_until(text: str) -> dt.datetime | None:
    """An override's until: an ISO date and time with its UTC offset; None when it is not one."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def until_problem(text: str) -> tuple[str, str, dict[str, Any]] | None:
    """(message, code, params) of an unusable until, else None."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return (
            f"{text!r} is not a date and time such as 2026-12-07T18:00+09:00",
            "not_datetime",
            {"value": text},
        )
    if value.tzinfo is None:
        # A wall-clock time is ambiguous where the clocks change (DST); the file says which instant.
        return (
            f"{text!r} needs its UTC offset, such as 2026-12-07T18:00+09:00",
            "no_utc_offset",
            {"value": text},
        )
    return None


def minutes(hhmm: str) -> int:
    """Minutes since midnight of an `HH:MM` text (24:00 is 1440)."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def own_number_errors(
    data: Document, section: str, noun: str, taken: dict[str, tuple[str, str]] | None = None
) -> list[FieldError]:
    """Errors of the numbers a feature's entries are dialled at (`data[section][i]["number"]`): listed
    twice, a user's extension, another feature's number (`taken`: number -> (what it is, code
    suffix)) or a park slot. Codes are `<noun>_twice`, `<noun>_is_extension`, `<noun>_is_<suffix>`
    and `<noun>_is_park_slot`."""
    errors: list[FieldError] = []
    extensions = {u["extension"] for u in data["users"]}
    taken = taken or {}
    park = data.get("park") or None
    first, last = (int(x) for x in park["slots"].split("-")) if park else (1, 0)
    seen: set[str] = set()
    for index, entry in enumerate(data.get(section, ())):
        number, path = entry["number"], (section, index, "number")
        params = {"number": number}
        if number in seen:
            errors.append(FieldError(path, f"{noun} {number} is listed twice", f"{noun}_twice", params))
        elif number in extensions:
            message = f"{number} is already a user's extension"
            errors.append(FieldError(path, message, f"{noun}_is_extension", params))
        elif number in taken:
            what, suffix = taken[number]
            errors.append(FieldError(path, f"{number} is already {what}", f"{noun}_is_{suffix}", params))
        elif first <= int(number) <= last:
            message = f"{number} is one of the park slots"
            errors.append(FieldError(path, message, f"{noun}_is_park_slot", params))
        seen.add(number)
    return errors
