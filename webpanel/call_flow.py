"""Where a call goes, drawn as a tree: from a number (or an IVR menu) through schedules, menus,
ring groups and users' forwards to where it ends, with each branch named by what takes it
(business hours, a key, no answer after 20 s). Built from the tenant's document, the same
configuration routing and the "what happens if" simulator read, so the picture and the calls agree;
the simulator answers "what happens to this call now", the diagram "every way a call can go".

A destination already drawn above on the same path (an IVR option back to its own menu, two
schedules pointing at each other) is named, not drawn again, so every diagram is finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext

MAX_DEPTH = 8


@dataclass
class FlowNode:
    kind: str  # the destination kind (a CSS class of the box)
    label: str
    detail: str = ""
    repeat: bool = False  # drawn above on this path: not expanded again
    branches: list[tuple[str, FlowNode]] = field(default_factory=list)


def _by_name(doc: dict, section: str, key: str = "name") -> dict[str, dict]:
    return {str(item.get(key)): item for item in doc.get(section) or []}


def _target(destination: dict | None) -> tuple[str, str] | None:
    if not destination:
        return None
    ((kind, target),) = destination.items()
    return kind, str(target) if target is not None else ""


class FlowBuilder:
    def __init__(self, doc: dict):
        self.users = _by_name(doc, "users", "extension")
        self.groups = _by_name(doc, "ring_groups")
        self.schedules = _by_name(doc, "schedules")
        self.menus = _by_name(doc, "ivr_menus")
        self.faxes = _by_name(doc, "fax", "number")

    def number(self, national: str, destination: dict | None) -> FlowNode:
        root = FlowNode("number", gettext("Call to %(number)s", number=national))
        fax = self.faxes.get(national)
        if fax is not None:  # answered by the fax receiver (fsctl.routing.fax), whatever else is set
            detail = ", ".join(fax["emails"]) or gettext("not mailed")
            root.branches.append(("", FlowNode("fax", gettext("FAX: kept and mailed as PDF"), detail)))
            return root
        root.branches.append(("", self.destination(destination, (), 0)))
        return root

    def menu(self, name: str) -> FlowNode:
        return self.destination({"ivr": name}, (), 0)

    def destination(
        self, destination: dict | None, path: tuple[tuple[str, str], ...], depth: int
    ) -> FlowNode:
        target = _target(destination)
        if target is None:
            return FlowNode("hangup", gettext("Nobody: the call ends"))
        kind, name = target
        if target in path or depth >= MAX_DEPTH:
            node = self._leaf(kind, name)
            node.repeat = True
            return node
        path = (*path, target)
        if kind == "user":
            return self._user(name, path, depth)
        if kind == "ring_group":
            return self._group(name, path, depth)
        if kind == "schedule":
            return self._schedule(name, path, depth)
        if kind == "ivr":
            return self._menu(name, path, depth)
        return self._leaf(kind, name)

    def _leaf(self, kind: str, name: str) -> FlowNode:
        user = self.users.get(name, {})
        labels = {
            "user": gettext("Extension %(ext)s", ext=name),
            "voicemail": gettext("Voicemail of %(ext)s", ext=name),
            "ring_group": gettext("Ring group %(name)s", name=name),
            "schedule": gettext("Schedule %(name)s", name=name),
            "ivr": gettext("IVR menu %(name)s", name=name),
            "external": gettext("Outside number %(number)s", number=name),
            "announcement": gettext("Announcement %(name)s", name=name),
            "hangup": gettext("Hang up"),
        }
        detail = user.get("name", "") if kind in ("user", "voicemail") else ""
        return FlowNode(kind, labels.get(kind, kind), detail)

    def _user(self, extension: str, path, depth: int) -> FlowNode:
        node = self._leaf("user", extension)
        user = self.users.get(extension)
        if user is None:
            return node
        forward = user.get("forward") or {}
        if forward.get("always"):
            node.branches.append(
                (gettext("always forwarded"), self.destination(forward["always"], path, depth + 1))
            )
            return node
        seconds = forward.get("no_answer_seconds") or user.get("ring_seconds") or 20
        for key, words in (
            ("busy", gettext("busy")),
            ("no_answer", gettext("no answer in %(seconds)s s", seconds=seconds)),
            ("unregistered", gettext("phone not connected")),
        ):
            if forward.get(key):
                node.branches.append((words, self.destination(forward[key], path, depth + 1)))
        return node

    def _group(self, name: str, path, depth: int) -> FlowNode:
        node = self._leaf("ring_group", name)
        group = self.groups.get(name)
        if group is None:
            return node
        strategy = (
            gettext("one after another") if group.get("strategy") == "sequential" else gettext("all at once")
        )
        members = ", ".join(str(m) for m in group.get("members") or [])
        node.detail = gettext("%(members)s, %(strategy)s", members=members, strategy=strategy)
        seconds = group.get("ring_seconds") or 20
        node.branches.append(
            (
                gettext("no answer in %(seconds)s s", seconds=seconds),
                self.destination(group.get("no_answer"), path, depth + 1),
            )
        )
        return node

    def _schedule(self, name: str, path, depth: int) -> FlowNode:
        node = self._leaf("schedule", name)
        schedule = self.schedules.get(name)
        if schedule is None:
            return node
        node.branches.append(
            (gettext("open hours"), self.destination(schedule.get("open_destination"), path, depth + 1))
        )
        # Closed always plays the after-hours announcement first (fsctl.routing.destinations.closed_branch).
        closed = FlowNode(
            "announcement",
            gettext("After-hours announcement"),
            schedule.get("closed_announcement") or gettext("the standard one"),
        )
        closed.branches.append(
            (gettext("then"), self.destination(schedule.get("closed_destination"), path, depth + 1))
        )
        node.branches.append((gettext("closed (outside hours, holidays, closures)"), closed))
        return node

    def _menu(self, name: str, path, depth: int) -> FlowNode:
        node = self._leaf("ivr", name)
        menu = self.menus.get(name)
        if menu is None:
            return node
        for digit, destination in sorted(
            (menu.get("options") or {}).items(), key=lambda item: _keypad(item[0])
        ):
            node.branches.append(
                (gettext("key %(digit)s", digit=digit), self.destination(destination, path, depth + 1))
            )
        node.branches.append(
            (gettext("no key pressed"), self.destination(menu.get("timeout_destination"), path, depth + 1))
        )
        return node


def _keypad(digit: str) -> int:
    # The phone's order: 1-9, then 0, *, #.
    return {"0": 10, "*": 11, "#": 12}.get(str(digit), int(digit) if str(digit).isdigit() else 13)
