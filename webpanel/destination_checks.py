"""Save-time check: a destination to an outside number that can never work is refused, naming why.

An always-forward to an international number while international calls are off makes every call to
that user fail, silently, at call time. The rules are the routing's own
(`fsctl.routing.calls.external_destination_refusal`, which `forward_external` applies when a call
arrives), asked here about every outside number in the document when it is saved:

- a new or changed destination that would fail is refused on its field;
- one that was fine and fails only because of another change (international calls turned off) is
  saved with a warning naming it, so a settings change is never blocked by old forwards;
- during the trial outside calls fail until activation: warned, not refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext

from fsctl.numbering import default_plan
from fsctl.routing.calls import external_destination_refusal
from fsctl.routing.snapshot import TenantSnap
from fsctl.tenant_file import FieldError, Path
from webpanel.trace_words import kind_words

Document = dict[str, Any]
# Account states the status bar and billing pages already explain; not a property of a destination.
_ACCOUNT_RULES = {"trial_expired", "suspended"}


def _external(dest: Any) -> str | None:
    if isinstance(dest, dict) and "external" in dest:
        return str(dest["external"])
    return None


def external_destinations(doc: Document) -> Iterator[tuple[tuple[str, str, Path], Path, str]]:
    """(identity, path, number) of every destination to an outside number; the identity (section,
    item, field) survives other items being added or removed, the path is the file's, for the form."""
    for i, user in enumerate(doc.get("users") or []):
        for kind, dest in (user.get("forward") or {}).items():
            if (target := _external(dest)) is not None:
                key = ("users", user["extension"], ("forward", kind))
                yield key, ("users", i, "forward", kind, "external"), target
    for i, number in enumerate(doc.get("numbers") or []):
        if (target := _external(number.get("destination"))) is not None:
            key = ("numbers", number["number"], ("destination",))
            yield key, ("numbers", i, "destination", "external"), target
    for i, group in enumerate(doc.get("ring_groups") or []):
        if (target := _external(group.get("no_answer"))) is not None:
            yield (
                ("ring_groups", group["name"], ("no_answer",)),
                ("ring_groups", i, "no_answer", "external"),
                target,
            )
    for i, schedule in enumerate(doc.get("schedules") or []):
        for field in ("open_destination", "closed_destination"):
            if (target := _external(schedule.get(field))) is not None:
                yield ("schedules", schedule["name"], (field,)), ("schedules", i, field, "external"), target
    for i, menu in enumerate(doc.get("ivr_menus") or []):
        fields: list[tuple[Path, Any]] = [
            (("options", d), dest) for d, dest in (menu.get("options") or {}).items()
        ]
        fields.append((("timeout_destination",), menu.get("timeout_destination")))
        for field, dest in fields:
            if (target := _external(dest)) is not None:
                yield ("ivr_menus", menu["name"], field), ("ivr_menus", i, *field, "external"), target


def _park_ranges(doc: Document) -> tuple[tuple[int, int], ...]:
    slots = (doc.get("park") or {}).get("slots") or ""
    first, sep, last = str(slots).partition("-")
    if sep and first.isdigit() and last.isdigit():
        return ((int(first), int(last)),)
    return ()


def snapshot_of(doc: Document, tenant_id: int) -> TenantSnap:
    """What the routing reads about the tenant for an outside number, from the document being saved."""
    started = doc.get("trial_started_on")
    return TenantSnap(
        id=tenant_id,
        domain=doc.get("domain", ""),
        name=doc.get("name", ""),
        timezone=doc.get("timezone") or "Asia/Tokyo",
        status=doc.get("status") or "active",
        trial_started_on=dt.date.fromisoformat(started) if started else dt.date.today(),
        international_calls=bool(doc.get("international_calls")),
        allowed_prefixes=tuple(doc.get("allowed_prefixes") or ()),
        # classify() only asks whether a string is one of the extensions.
        users=dict.fromkeys(u["extension"] for u in doc.get("users") or []),  # type: ignore[arg-type]
        park_ranges=_park_ranges(doc),
        # An outside-number destination naming a conference room joins that room.
        rooms=dict.fromkeys(r["number"] for r in doc.get("conference_rooms") or []),  # type: ignore[arg-type]
        # And one naming a call queue waits in that queue.
        queues=dict.fromkeys(q["number"] for q in doc.get("call_queues") or []),  # type: ignore[arg-type]
    )


def _why(rule: str, number: str, kind: str) -> str:
    reasons = {
        "international_disabled": gettext(
            "%(number)s is an international number and international calls are off (Settings):"
            " every call sent there would fail.",
            number=number,
        ),
        "blocked_prefix": gettext(
            "%(number)s is a special service number that is blocked for your company: every call sent"
            " there would fail.",
            number=number,
        ),
        "invalid_number": gettext(
            "%(number)s is not a number that can be called: every call sent there would fail.", number=number
        ),
        "forward_target": gettext(
            "%(number)s is %(kind)s and cannot receive forwarded calls: every call sent there would fail.",
            number=number,
            kind=kind_words(kind),
        ),
        "trial_internal_only": gettext(
            "During the trial, calls to outside numbers do not go out: calls sent to %(number)s fail until"
            " the service is activated.",
            number=number,
        ),
    }
    return reasons.get(rule, gettext("Calls sent to %(number)s would fail.", number=number))


def check_destinations(
    before: Document, after: Document, tenant_id: int
) -> tuple[list[FieldError], list[FieldError]]:
    """(refusals, warnings) for the outside numbers in `after`, their messages in the panel's words."""
    tz = after.get("timezone") or "Asia/Tokyo"
    now = dt.datetime.now(ZoneInfo(tz))
    numbering = default_plan()
    snap_after = snapshot_of(after, tenant_id)
    snap_before = snapshot_of(before, tenant_id)
    old = {key: target for key, _path, target in external_destinations(before)}
    refusals: list[FieldError] = []
    warnings: list[FieldError] = []
    for key, path, target in external_destinations(after):
        found = external_destination_refusal(snap_after, target, now, numbering)
        if found is None or found[0] in _ACCOUNT_RULES:
            continue
        rule, number = found
        unchanged = old.get(key) == target
        if unchanged and external_destination_refusal(snap_before, target, now, numbering) is not None:
            continue  # already so before this save: not news, and never a reason to block it
        message = _why(rule, target, number.kind)
        if unchanged or rule == "trial_internal_only":
            warnings.append(FieldError(path, message))
        else:
            refusals.append(FieldError(path, message))
    return refusals, warnings
