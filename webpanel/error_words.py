"""fsctl's validation errors in the panel's words, with a link to the page that fixes them.

fsctl reports an error as a document path and an English message (`ring_groups[0].members[1]: no user
with extension 102`); the path is developer language. At the panel boundary this module turns the path
into the object and field as the panel names them ("Ring group sales — Members"), the references to
other paths inside the message into names too, and the message into the user's language.

Only this module reads document paths. fsctl's errors arrive as `(path, message)` pairs
(`webpanel.tenantdoc.split_error`); if fsctl ever hands over structured errors, `explain` is the one
place to adapt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import flash, url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db
from webpanel.i18n import N_
from webpanel.trace_words import kind_words

_ITEM = re.compile(r"^(users|ring_groups|schedules|ivr_menus|numbers)\[(\d+)\]\.?(.*)$")
_ANY_ITEM = re.compile(r"\b(users|ring_groups|schedules|ivr_menus|numbers)\[(\d+)\]")


@dataclass(frozen=True)
class Problem:
    """One refusal as a customer reads it: a sentence, and where to fix it (None: nowhere better)."""

    text: str
    url: str | None = None

    def __str__(self) -> str:
        return self.text


def _section_words(section: str) -> str:
    return {
        "users": gettext("User"),
        "ring_groups": gettext("Ring group"),
        "schedules": gettext("Schedule"),
        "ivr_menus": gettext("IVR menu"),
        "numbers": gettext("Number"),
    }[section]


def field_words(rest: str) -> str:
    """`forward.busy.user` -> "When busy"; unknown fields fall back to no field name at all."""
    head = re.sub(r"\[\d+\]", "", rest)
    fields = {
        "company": gettext("Company name"),
        "contact_name": gettext("Contact name"),
        "phone": gettext("Phone number"),
        "email": gettext("E-mail address"),
        "ring_seconds": gettext("Ring for (seconds)"),
        "voicemail.pin": gettext("Voicemail PIN (4-12 digits)"),
        "voicemail.email": gettext("Send messages to (e-mail)"),
        "international_calls": gettext("Allow international calls (010…)"),
        "park": gettext("Park slots (a range such as 700-719; empty = no parking)"),
        "language": gettext("What callers hear (menus, announcements, voicemail)"),
        "greeting": gettext("Greeting"),
        "timeout_seconds": gettext("Seconds to wait for a key"),
        "max_attempts": gettext("Tries (the greeting is played again after silence or a wrong key)"),
        "closures": gettext("Closures (company holidays)"),
        "closed_announcement": gettext("After-hours announcement (audio file; empty = the standard one)"),
        "extension": gettext("Extension"),
        "name": gettext("Name"),
        "did": gettext("Individual number (rings this user)"),
        "caller_id": gettext("Caller ID on outside calls"),
        "schedule": gettext("Personal schedule"),
        "password": gettext("Password"),
        "voicemail": gettext("Voicemail"),
        "forward.always": gettext("Always forward to"),
        "forward.busy": gettext("When busy"),
        "forward.no_answer": gettext("When not answered"),
        "forward.unregistered": gettext("When the phone is not connected"),
        "members": gettext("Members"),
        "no_answer": gettext("When nobody answers"),
        "open_destination": gettext("While open"),
        "closed_destination": gettext("While closed, after the announcement"),
        "open": gettext("Open hours"),
        "options": gettext("Keys"),
        "timeout_destination": gettext("After the last try without a valid key"),
        "destination": gettext("Where calls go"),
    }
    # The longest known prefix names the field: forward.busy.user is the "When busy" picker.
    for key in sorted(fields, key=len, reverse=True):
        if head == key or head.startswith(key + "."):
            if key == "options":
                digit = head.split(".")[1] if "." in head else ""
                return gettext("Key %(digit)s", digit=digit) if digit else fields[key]
            return fields[key]
    return ""


def _label(doc: dict[str, Any], section: str, index: int) -> str:
    """ "User 102 (佐藤)", "Ring group sales" — how the panel's lists name the object."""
    items = doc.get(section) or []
    item = items[index] if 0 <= index < len(items) else {}
    if section == "users":
        name = item.get("name")
        ext = item.get("extension", "?")
        return (
            gettext("User %(ext)s (%(name)s)", ext=ext, name=name)
            if name
            else gettext("User %(ext)s", ext=ext)
        )
    key = item.get("number") if section == "numbers" else item.get("name")
    return f"{_section_words(section)} {key or '?'}"


_EDIT = {
    "users": ("users.edit", "user_id", models.User, models.User.extension, "extension"),
    "ring_groups": ("ringgroups.edit", "group_id", models.RingGroup, models.RingGroup.name, "name"),
    "schedules": ("schedules.edit", "schedule_id", models.Schedule, models.Schedule.name, "name"),
    "ivr_menus": ("ivr.edit", "menu_id", models.IvrMenu, models.IvrMenu.name, "name"),
}


def _fix_url(doc: dict[str, Any], tenant_id: int, section: str, index: int) -> str | None:
    """The edit page of the object the error is on; its list page when it is not saved yet."""
    if section == "numbers":
        return url_for("numbers.index")
    endpoint, arg, model, column, key = _EDIT[section]
    items = doc.get(section) or []
    value = items[index].get(key) if 0 <= index < len(items) else None
    # One query, only on a refused save: never on a page that renders fine.
    row_id = db.session.scalar(select(model.id).where(model.tenant_id == tenant_id, column == value))
    if row_id is None:
        return url_for(endpoint.replace(".edit", ".index"))
    return url_for(endpoint, **{arg: row_id})


# fsctl's messages with a changing part: (pattern, message id with %(x)s, %(y)s for the groups).
_MESSAGES = [
    (
        re.compile(r"^'?(.+?)'? does not exist in this file$"),
        N_("%(x)s does not exist (removed, or never added)"),
    ),
    (re.compile(r"^already used by (.+)$"), N_("already used by %(x)s")),
    (re.compile(r"^already the did of (.+)$"), N_("already the individual number of %(x)s")),
    (re.compile(r"^no user with extension (.+)$"), N_("there is no user with extension %(x)s")),
    (re.compile(r"^no schedule named '?(.+?)'?$"), N_("there is no schedule named %(x)s")),
    (
        re.compile(r"^no uploaded audio named '?(.+?)'? \(upload it first\)$"),
        N_("no uploaded audio named %(x)s (upload it first)"),
    ),
    (re.compile(r"^(\S+) belongs to another tenant$"), N_("%(x)s belongs to another customer")),
    (
        re.compile(r"^(\S+) cannot be a forwarding target \((\w+)\)$"),
        N_("%(x)s is %(y)s and cannot be a forward"),
    ),
    (
        re.compile(r"^(\S+) is an outbound-only line and cannot receive calls$"),
        N_("%(x)s is set to outgoing only and cannot receive calls"),
    ),
    (re.compile(r"^(\S+) has voicemail disabled$"), N_("%(x)s has voicemail turned off")),
    (re.compile(r"^(\S+) is not one of this tenant's numbers$"), N_("%(x)s is not one of your numbers")),
    (
        re.compile(r"^(\S+) is also listed under numbers; give it one destination$"),
        N_("%(x)s is also set on the Numbers page; give it one destination"),
    ),
    (re.compile(r"^(\S+) is listed (\d+) times$"), N_("%(x)s is listed %(y)s times")),
    (re.compile(r"^overlaps the extensions (.+)$"), N_("overlaps the extensions %(x)s")),
    (re.compile(r"^(\S+) is an emergency number$"), N_("%(x)s is an emergency number")),
]


_NUMBER_CLASS_IN_Y = {"%(x)s is %(y)s and cannot be a forward"}


def message_words(message: str, doc: dict[str, Any] | None = None) -> str:
    """The message in the user's language, other objects named as the panel names them."""
    doc = doc or {}
    message = _ANY_ITEM.sub(lambda m: _label(doc, m.group(1), int(m.group(2))), message)
    for pattern, msgid in _MESSAGES:
        found = pattern.match(message)
        if found:
            groups = found.groups()
            y = groups[1] if len(groups) > 1 else ""
            if msgid in _NUMBER_CLASS_IN_Y:
                y = kind_words(y)  # fsctl's class name ("emergency") as words: "an emergency number"
            return gettext(msgid, x=groups[0], y=y)
    return gettext(message) if message else message


def explain(path: str, message: str, doc: dict[str, Any], tenant_id: int) -> Problem:
    """One fsctl error as a sentence naming the object and field, with the link that fixes it."""
    words = message_words(message, doc)
    found = _ITEM.match(path)
    if found is None:
        return Problem(words)
    section, index, rest = found.group(1), int(found.group(2)), found.group(3)
    where = _label(doc, section, index)
    field = field_words(rest)
    if field:
        where = gettext("%(object)s, %(field)s", object=where, field=field)
    return Problem(
        gettext("%(where)s: %(message)s", where=where, message=words),
        _fix_url(doc, tenant_id, section, index),
    )


def problem_markup(problem: Problem) -> Markup:
    """A problem for flash(): the sentence, escaped, and its fix link."""
    if problem.url is None:
        return Markup("{}").format(problem.text)
    return Markup('{} <a href="{}">{}</a>').format(problem.text, problem.url, gettext("Fix it"))


def flash_problems(problems: list[Problem]) -> None:
    for problem in problems:
        flash(problem_markup(problem), "error")
