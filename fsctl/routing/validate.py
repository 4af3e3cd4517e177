"""Save-time checks of a tenant file (the dict its schema loads): `(path, message, code, params)` problems.

The path is a tuple of keys and list positions (`("users", 3, "forward", "always")`), the shape of the
tenant file's FieldError (fsctl.tenant_file), which the file check builds from these tuples. Called
before anything is published; pure (no database, no clock).
"""

from __future__ import annotations

from typing import Any

from fsctl.numbering import NumberingPlan, classify
from fsctl.routing.schedules import DAY_NAMES, WEEK_MINUTES
from fsctl.routing.snapshot import LazyUsers, QueueSnap, RoomSnap, TenantSnap, UserSnap

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FORWARDS = ("always", "busy", "no_answer", "unregistered")
# (path, message, code, params): code and params let a reader word the message itself.
Problem = tuple[tuple[str | int, ...], str, str, dict[str, Any]]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _gaps(periods: list[dict[str, Any]]) -> list[str]:
    """The uncovered stretches of the week, as `Mon 00:00-09:00` labels."""
    covered = [False] * WEEK_MINUTES
    for period in periods:
        start, end = _minutes(period["from_"]), _minutes(period["to"])
        if end <= start:
            end += 1440
        for day in period["days"]:
            base = WEEKDAYS.index(day) * 1440
            for minute in range(base + start, base + end):
                covered[minute % WEEK_MINUTES] = True
    labels: list[str] = []
    start = None
    for minute, ok in enumerate([*covered, True]):
        if not ok and start is None:
            start = minute
        elif ok and start is not None:
            labels.append(_label(start, minute))
            start = None
    return labels


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _label(start: int, end: int) -> str:
    day, in_day = divmod(start, 1440)
    if end - day * 1440 <= 1440:
        return f"{DAY_NAMES[day]} {_hhmm(in_day)}-{_hhmm(end - day * 1440)}"
    end_day, end_in_day = divmod(end, 1440)
    return f"{DAY_NAMES[day]} {_hhmm(in_day)}-{DAY_NAMES[end_day % 7]} {_hhmm(end_in_day)}"


def _forward_loops(data: dict[str, Any]) -> list[Problem]:
    errors: list[Problem] = []
    users = {u["extension"]: index for index, u in enumerate(data["users"])}
    for index, user in enumerate(data["users"]):
        chain, current = [user["extension"]], user
        while True:
            dest = current["forward"]["always"]
            if dest is None or dest[0] != "user" or dest[1] not in users:
                break
            if dest[1] in chain:
                if dest[1] == user["extension"]:
                    loop = " -> ".join([*chain, dest[1]])
                    errors.append(
                        (
                            ("users", index, "forward", "always"),
                            f"forwards in a loop {loop}",
                            "",
                            {"loop": loop},
                        )
                    )
                break
            chain.append(dest[1])
            current = data["users"][users[dest[1]]]
    return errors


def validate_routing(data: dict[str, Any], numbering: NumberingPlan) -> list[Problem]:
    """Forward loops, empty ring groups, uncovered weeks, destinations that cannot work (under `numbering`)."""
    errors = _forward_loops(data)
    users = {u["extension"]: u for u in data["users"]}
    # A conference room's number (the `conference_rooms` section, when the file has it) is a fine
    # destination: calls to it join the room.
    rooms = {r["number"]: RoomSnap(r["number"]) for r in data.get("conference_rooms", ())}
    # So is a call queue's (the `call_queues` section): calls to it wait in the queue.
    queues = {q["number"]: QueueSnap(q["number"]) for q in data.get("call_queues", ())}
    tenant = TenantSnap(
        id=0,
        domain=data.get("domain", ""),
        name="",
        # Built only for the extensions classify() asks about: a frozen UserSnap per user of a
        # 1,000-user tenant was a twentieth of a panel save.
        users=LazyUsers({e: (e,) for e in users}, lambda row: UserSnap(row[0], "")),
        rooms=rooms,
        queues=queues,
    )

    def check(path: tuple[str | int, ...], dest: tuple[str, str | None] | None) -> None:
        if dest is None:
            return
        kind, target = dest
        user = users.get(target or "")
        if kind == "user" and user is not None and user["direction"].value == "outbound_only":
            message = f"{target} is an outbound-only line and cannot receive calls"
            errors.append(((*path, "user"), message, "outbound_only", {"extension": target}))
        if kind == "voicemail" and user is not None and not user["voicemail"]["enabled"]:
            message = f"{target} has voicemail disabled"
            errors.append(((*path, "voicemail"), message, "voicemail_off", {"extension": target}))
        if kind == "external":
            number = classify(target or "", tenant, numbering)
            if number.kind in ("emergency", "invalid", "feature", "park_slot"):
                message = f"{target} cannot be a forwarding target ({number.kind})"
                params = {"number": target, "kind": number.kind}
                errors.append(((*path, "external"), message, "not_forwardable", params))

    for index, user in enumerate(data["users"]):
        for kind in FORWARDS:
            check(("users", index, "forward", kind), user["forward"][kind])
        if user["extension"] in numbering.emergency:
            message = f"{user['extension']} is an emergency number"
            params = {"extension": user["extension"]}
            errors.append((("users", index, "extension"), message, "emergency_extension", params))
    for index, number in enumerate(data["numbers"]):
        check(("numbers", index, "destination"), number["destination"])
    for index, group in enumerate(data["ring_groups"]):
        if group["members"] and all(
            users.get(m) is not None and users[m]["direction"].value == "outbound_only"
            for m in group["members"]
        ):
            errors.append(
                (("ring_groups", index, "members"), "every member is an outbound-only line", "", {})
            )
        check(("ring_groups", index, "no_answer"), group["no_answer"])
    for index, schedule in enumerate(data["schedules"]):
        check(("schedules", index, "open_destination"), schedule["open_destination"])
        check(("schedules", index, "closed_destination"), schedule["closed_destination"])
        # A tenant that means its schedule to cover the whole week says so with full_coverage.
        gaps = _gaps(schedule["open"]) if schedule.get("full_coverage") else []
        if gaps:
            shown = ", ".join(gaps[:4]) + (" ..." if len(gaps) > 4 else "")
            message = f"the week is not covered ({shown})"
            errors.append((("schedules", index, "open"), message, "", {"gaps": shown}))
    for index, menu in enumerate(data["ivr_menus"]):
        for digit, dest in menu["options"].items():
            check(("ivr_menus", index, "options", digit), dest)
        check(("ivr_menus", index, "timeout_destination"), menu["timeout_destination"])
    for index, queue in enumerate(data.get("call_queues", ())):
        check(("call_queues", index, "overflow"), queue["overflow"])
    return errors
