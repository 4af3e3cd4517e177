"""Helpers shared by the tenant pages: the destination picker, paging, the signed-in actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db
from webpanel.tenantdoc import SaveRefused, save_tenant

Document = dict[str, Any]
PAGE_SIZE = 50


def save_or_refusal(change: Callable[[Document], None], action: str, summary: str) -> SaveRefused | None:
    """Save `change` to the signed-in tenant's document as the signed-in actor; the refusal, or None
    when it was saved."""
    try:
        save_tenant(g.tenant.id, change, actor=actor(), action=action, summary=summary)
    except SaveRefused as refused:
        return refused
    return None


def actor() -> str:
    """Who is acting, for the audit log."""
    account = g.get("account")
    return f"panel:{account.email}" if account is not None else "panel"


def destination_choices(
    doc: Document, *, allow_schedule: bool = True, audio: list[str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """What a destination picker offers: a kind <select> and, once per page, a datalist of targets.

    A kind plus a typed target (with suggestions) stays small for a tenant with 1,000 extensions,
    where one <option> per extension and kind made each picker thousands of lines long.
    """
    kinds = [
        ("", gettext("(none)")),
        ("user", gettext("Extension")),
        ("voicemail", gettext("Voicemail")),
        ("ring_group", gettext("Ring group")),
    ]
    if allow_schedule:
        kinds.append(("schedule", gettext("Schedule")))
    if doc["ivr_menus"]:
        kinds.append(("ivr", gettext("IVR menu")))
    audio = tenant_audio_names() if audio is None else audio
    if audio:
        # Plays one of the tenant's uploads (from a menu option: then the menu again; else hangs up).
        kinds.append(("announcement", gettext("Announcement")))
    kinds += [("external", gettext("External number")), ("hangup", gettext("Hang up"))]
    targets = [(u["extension"], u["name"]) for u in doc["users"]]
    targets += [(g["name"], gettext("Ring group")) for g in doc["ring_groups"]]
    if allow_schedule:
        targets += [(s["name"], gettext("Schedule")) for s in doc["schedules"]]
    targets += [(m["name"], gettext("IVR menu")) for m in doc["ivr_menus"]]
    targets += [(name, gettext("Announcement")) for name in audio]
    return {"kinds": kinds, "targets": targets}


def tenant_audio_names() -> list[str]:
    """The signed-in tenant's uploaded audio names (what an announcement may play)."""
    return list(
        db.session.scalars(
            select(models.AudioFile.name)
            .where(models.AudioFile.tenant_id == g.tenant.id)
            .order_by(models.AudioFile.name)
        )
    )


def destination_value(dest: dict[str, Any] | None) -> tuple[str, str]:
    """(kind, target) of a document destination, for the picker."""
    if not dest:
        return "", ""
    ((kind, target),) = dest.items()
    return (kind, "") if kind == "hangup" else (kind, str(target))


def parse_destination(form: Any, name: str) -> dict[str, Any] | None:
    """The picker `name` (kind) + `name.target` as a document destination; None when empty.

    "user:101" in the kind field is read too (scripts posting the compact form).
    """
    value = (form.get(name) or "").strip()
    if not value:
        return None
    if value == "hangup":
        return {"hangup": True}
    kind, sep, target = value.partition(":")
    if not sep:
        target = form.get(f"{name}.target") or form.get(f"{name}.external") or ""
    return {kind: target.strip()}


def checkbox(form: Any, name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "yes")


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def confirmed(form: Any) -> bool:
    """Whether a costly or destructive action was confirmed on its confirmation page (confirm=yes)."""
    return form.get("confirm") == "yes"


def confirmation_page(title: str, consequences: list[str], button: str, cancel: str):
    """The page that states what an action will do and cost, and posts it again with confirm=yes."""
    return render_template(
        "confirm.html",
        title=title,
        consequences=consequences,
        button=button,
        action=request.path,
        cancel=cancel,
    )
