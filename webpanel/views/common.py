"""Helpers shared by the tenant pages: the destination picker, paging, the signed-in actor."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import gettext

Document = dict[str, Any]
PAGE_SIZE = 50


def actor() -> str:
    """Who is acting, for the audit log."""
    account = g.get("account")
    return f"panel:{account.email}" if account is not None else "panel"


def destination_choices(doc: Document, *, allow_schedule: bool = True) -> list[tuple[str, str]]:
    """(value, label) pairs for a destination <select>, from the tenant's document."""
    choices: list[tuple[str, str]] = [("", gettext("(none)"))]
    for user in doc["users"]:
        choices.append(
            (
                f"user:{user['extension']}",
                gettext("Extension %(ext)s %(name)s", ext=user["extension"], name=user["name"]),
            )
        )
    for user in doc["users"]:
        choices.append(
            (f"voicemail:{user['extension']}", gettext("Voicemail of %(ext)s", ext=user["extension"]))
        )
    for group in doc["ring_groups"]:
        choices.append((f"ring_group:{group['name']}", gettext("Ring group %(name)s", name=group["name"])))
    if allow_schedule:
        for schedule in doc["schedules"]:
            choices.append(
                (f"schedule:{schedule['name']}", gettext("Schedule %(name)s", name=schedule["name"]))
            )
    for menu in doc["ivr_menus"]:
        choices.append((f"ivr:{menu['name']}", gettext("IVR menu %(name)s", name=menu["name"])))
    choices.append(("hangup", gettext("Hang up")))
    choices.append(("external", gettext("External number (below)")))
    return choices


def destination_value(dest: dict[str, Any] | None) -> tuple[str, str]:
    """(picker value, external number) for a destination of the document."""
    if not dest:
        return "", ""
    ((kind, target),) = dest.items()
    if kind == "hangup":
        return "hangup", ""
    if kind == "external":
        return "external", str(target)
    return f"{kind}:{target}", ""


def parse_destination(form: Any, name: str) -> dict[str, Any] | None:
    """The picker `name` (+ `name.external`) as a document destination; None when empty."""
    value = (form.get(name) or "").strip()
    if not value:
        return None
    if value == "hangup":
        return {"hangup": True}
    if value == "external":
        return {"external": (form.get(f"{name}.external") or "").strip()}
    kind, _, target = value.partition(":")
    return {kind: target}


def checkbox(form: Any, name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "yes")


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1
