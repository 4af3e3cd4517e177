"""fsctl's validation errors in the panel's words, with a link to the page that fixes them.

fsctl refuses a tenant file with FieldError objects (fsctl.tenant_file): a path into the document,
`("ring_groups", 0, "members", 1)`, an English message, and for a message with a changing part a code
and its params. The path is developer language: here it becomes the object and field as the panel
names them ("Ring group sales — Members"), a param that names another entry becomes that entry's
name, and the message is said in the user's language from its code (or its English as the msgid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import select

from fsctl import models
from fsctl.tenant_file import FieldError, Path
from webpanel.extensions import db
from webpanel.i18n import N_
from webpanel.trace_words import kind_words

# The document's lists whose entries the panel names and links to.
_SECTIONS = ("users", "ring_groups", "schedules", "ivr_menus", "numbers")


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


def field_words(rest: Path | str) -> str:
    """`("forward", "busy", "user")` -> "When busy"; unknown fields fall back to no field name at all.

    A form's own field key (`forward.busy.user`, `members[1]`) is accepted too: the templates have those.
    """
    if isinstance(rest, str):
        parts: list[str] = [part.partition("[")[0] for part in rest.split(".")]
    else:
        parts = [part for part in rest if isinstance(part, str)]
    head = ".".join(parts)
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
        "override.until": gettext("Override until"),
        "override.mode": gettext("Override: closed or open"),
        "override": gettext("Temporary closure / extra opening"),
        "until": gettext("Override until"),
        "mode": gettext("Override: closed or open"),
        # conference rooms and phonebook contacts
        "number": gettext("Number"),
        "pin": gettext("PIN"),
        "max_members": gettext("Members at most"),
        "numbers": gettext("Numbers"),
        "note": gettext("Note"),
        # call queues
        "agents": gettext("Agents"),
        "strategy": gettext("How"),
        "max_wait_seconds": gettext("Maximum wait (seconds)"),
        "agent_ring_seconds": gettext("Each agent's phone rings for (seconds)"),
        "announce_position": gettext("Tell callers their place in the queue"),
        "overflow": gettext("After the maximum wait"),
    }
    # The longest known prefix names the field: forward.busy.user is the "When busy" picker.
    for key in sorted(fields, key=len, reverse=True):
        if head == key or head.startswith(key + "."):
            if key == "options":
                digit = parts[1] if len(parts) > 1 else ""
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


# fsctl's messages with a changing part, by code: (message id with %(x)s and %(y)s, the params they show).
_MESSAGES: dict[str, tuple[str, str, str | None]] = {
    "missing": (N_("%(x)s does not exist (removed, or never added)"), "name", None),
    "duplicate": (N_("already used by %(x)s"), "other", None),
    "did_taken": (N_("already the individual number of %(x)s"), "other", None),
    "no_user": (N_("there is no user with extension %(x)s"), "extension", None),
    "no_schedule": (N_("there is no schedule named %(x)s"), "name", None),
    "no_audio": (N_("no uploaded audio named %(x)s (upload it first)"), "name", None),
    "other_tenant": (N_("%(x)s belongs to another customer"), "number", None),
    "not_forwardable": (N_("%(x)s is %(y)s and cannot be a forward"), "number", "kind"),
    "outbound_only": (N_("%(x)s is set to outgoing only and cannot receive calls"), "extension", None),
    "voicemail_off": (N_("%(x)s has voicemail turned off"), "extension", None),
    "not_own_number": (N_("%(x)s is not one of your numbers"), "number", None),
    "did_also_number": (N_("%(x)s is also set on the Numbers page; give it one destination"), "number", None),
    "listed_twice": (N_("%(x)s is listed %(y)s times"), "extension", "count"),
    "park_overlap": (N_("overlaps the extensions %(x)s"), "extensions", None),
    "emergency_extension": (N_("%(x)s is an emergency number"), "extension", None),
    "not_datetime": (N_("%(x)s is not a date and time such as 2026-12-07T18:00+09:00"), "value", None),
    "no_utc_offset": (N_("%(x)s needs its UTC offset, such as 2026-12-07T18:00+09:00"), "value", None),
    "room_twice": (N_("conference room %(x)s is listed twice"), "number", None),
    "room_is_extension": (N_("%(x)s is already a user's extension"), "number", None),
    "room_is_park_slot": (N_("%(x)s is one of the park slots"), "number", None),
    "phonebook_number_twice": (N_("%(x)s is already in another contact"), "number", None),
    # call queues (fsctl.queues.config)
    "queue_twice": (N_("call queue %(x)s is listed twice"), "number", None),
    "queue_is_extension": (N_("%(x)s is already a user's extension"), "number", None),
    "queue_is_room": (N_("%(x)s is already a conference room"), "number", None),
    "queue_is_park_slot": (N_("%(x)s is one of the park slots"), "number", None),
    "queue_agent_unknown": (N_("there is no user with extension %(x)s"), "extension", None),
    "queue_agent_twice": (N_("%(x)s is listed twice"), "extension", None),
    # caller screening (fsctl.screening.section)
    "screening_unknown_number": (N_("%(x)s is not one of your numbers"), "number", None),
    "screening_unknown_user": (N_("there is no user with extension %(x)s"), "extension", None),
    "screening_listed_twice": (N_("%(x)s is already on the blocklist"), "caller", None),
    "screening_no_kind": (N_("choose at least one kind of caller without a number"), "", None),
    # FAX to e-mail (fsctl.fax.config)
    "fax_twice": (N_("fax number %(x)s is listed twice"), "number", None),
    "fax_not_a_number": (N_("%(x)s is not one of your numbers"), "number", None),
    "fax_number_has_destination": (
        N_("%(x)s rings somewhere; a fax number has no other destination"),
        "number",
        None,
    ),
}


def _entry(path: Path) -> tuple[str, int] | None:
    """(section, index) when the path lies in an entry of one of the panel's lists."""
    if len(path) >= 2 and path[0] in _SECTIONS and isinstance(path[1], int):
        return str(path[0]), path[1]
    return None


def _param_words(error: FieldError, name: str, doc: dict[str, Any]) -> str:
    value = error.params.get(name, "")
    if isinstance(value, tuple):  # another entry of the document: named as the panel names it
        entry = _entry(value)
        return _label(doc, *entry) if entry else str(value)
    if name == "kind":
        return kind_words(str(value))  # a number class ("emergency") as words: "an emergency number"
    return str(value)


def message_words(error: FieldError, doc: dict[str, Any] | None = None) -> str:
    """The message in the user's language, other objects named as the panel names them."""
    doc = doc or {}
    known = _MESSAGES.get(error.code)
    if known is not None:
        msgid, x, y = known
        return gettext(msgid, x=_param_words(error, x, doc), y=_param_words(error, y, doc) if y else "")
    return gettext(error.message) if error.message else error.message


def explain(error: FieldError, doc: dict[str, Any], tenant_id: int) -> Problem:
    """One fsctl error as a sentence naming the object and field, with the link that fixes it."""
    words = message_words(error, doc)
    entry = _entry(error.path)
    if entry is None:
        return Problem(words)
    section, index = entry
    where = _label(doc, section, index)
    field = field_words(error.path[2:])
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
