"""Exporting a tenant in the apply format: what `fsctl export` writes and the panel edits."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fsctl import models
from fsctl.schemas import WEEKDAYS
from fsctl.tenant_file.section import Section


def hhmm(minutes: int) -> str:
    """Minutes since midnight as `HH:MM`."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def dest_out(dest: models.Destination | None) -> dict[str, Any] | None:
    """A destination row as the file writes it: `{"ring_group": "sales"}`, `{"hangup": True}`."""
    if dest is None:
        return None
    kind = dest.kind.value
    target: Any = {
        "user": lambda: dest.user.extension,
        "voicemail": lambda: dest.user.extension,
        "ring_group": lambda: dest.ring_group.name,
        "ivr": lambda: dest.ivr_menu.name,
        "schedule": lambda: dest.schedule.name,
        "external": lambda: dest.external_number,
        "announcement": lambda: dest.announcement,
        "hangup": lambda: True,
    }[kind]()
    return {kind: target}


def export_document(tenant: models.Tenant, sections: Sequence[Section] = ()) -> dict[str, Any]:
    """The tenant in the apply format, each section's part included; never any password or hash."""
    user_dids = {
        n.destination.user.extension: n.national
        for n in tenant.numbers
        if n.destination is not None
        and n.destination.kind == models.DestinationKind.USER
        and not n.ivr_option
    }
    # A number is written as a user's `did` only when that keeps the round trip exact.
    did_counts = Counter(user_dids.values())
    users = []
    for user in tenant.users:
        entry: dict[str, Any] = {
            "extension": user.extension,
            "name": user.name,
            "direction": user.direction.value,
        }
        if user.caller_id:
            entry["caller_id"] = user.caller_id
        did = user_dids.get(user.extension)
        if did and did_counts[did] == 1:
            entry["did"] = did
        entry["ring_seconds"] = user.ring_seconds
        voicemail: dict[str, Any] = {"enabled": user.voicemail_enabled}
        if user.voicemail_pin:
            voicemail["pin"] = user.voicemail_pin
        if user.voicemail_email:
            voicemail["email"] = user.voicemail_email
        voicemail["attach_audio"] = user.voicemail_attach_audio
        entry["voicemail"] = voicemail
        entry["recording"] = user.recording_enabled
        entry["do_not_disturb"] = bool(user.do_not_disturb)
        if user.schedule:
            entry["schedule"] = user.schedule.name
        forward = {
            kind: dest_out(getattr(user, f"forward_{kind}"))
            for kind in ("always", "busy", "no_answer", "unregistered")
            if getattr(user, f"forward_{kind}") is not None
        }
        forward["no_answer_seconds"] = user.forward_no_answer_seconds
        entry["forward"] = forward
        users.append(entry)
    written_as_did = {did for did in user_dids.values() if did_counts[did] == 1}
    numbers = [
        {"number": n.national, "destination": dest_out(n.destination), "ivr_option": n.ivr_option}
        for n in tenant.numbers
        if n.national not in written_as_did
    ]
    document = {
        "domain": tenant.domain,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "language": tenant.language,
        "status": tenant.status.value,
        "trial_started_on": tenant.trial_started_on.isoformat(),
        "international_calls": tenant.international_calls,
        "max_external_channels": tenant.max_external_channels,
        "allowed_prefixes": list(tenant.allowed_prefixes or []),
        "users": users,
        "numbers": numbers,
        "ring_groups": [
            {
                "name": g.name,
                "members": [m.user.extension for m in g.members],
                "strategy": g.strategy.value,
                "ring_seconds": g.ring_seconds,
                "no_answer": dest_out(g.no_answer),
            }
            for g in tenant.ring_groups
        ],
        "schedules": [_schedule_out(s, tenant.timezone or "Asia/Tokyo") for s in tenant.schedules],
        "ivr_menus": [
            {
                "name": m.name,
                "greeting": m.greeting,
                "timeout_seconds": m.timeout_seconds,
                "max_attempts": m.max_attempts,
                "options": {o.digit: dest_out(o.destination) for o in m.options},
                "timeout_destination": dest_out(m.timeout_destination),
            }
            for m in tenant.ivr_menus
        ],
        "park": {"slots": f"{r.first_slot}-{r.last_slot}"}
        if (r := next(iter(tenant.park_ranges), None))
        else None,
    }
    for section in sections:
        section.export(tenant, document)
    return document


def _override_out(schedule: models.Schedule, timezone: str) -> dict[str, Any]:
    """The override as the file writes it: its until on the tenant's clock, with the offset."""
    out: dict[str, Any] = {"mode": schedule.override_mode}
    until = schedule.override_until
    if until is not None:
        until = until if until.tzinfo is not None else until.replace(tzinfo=dt.UTC)  # SQLite: naive UTC
        out["until"] = until.astimezone(zoneinfo.ZoneInfo(timezone)).isoformat()
    return out


def _schedule_out(schedule: models.Schedule, timezone: str) -> dict[str, Any]:
    # Periods with the same hours on several days are written back as one entry.
    grouped: dict[tuple[int, int], list[str]] = {}
    for period in schedule.periods:
        grouped.setdefault((period.start_minute, period.end_minute), []).append(WEEKDAYS[period.weekday])
    return {
        "name": schedule.name,
        "open": [
            {"days": days, "from": hhmm(start), "to": hhmm(end % 1440 if end != 1440 else 1440)}
            for (start, end), days in grouped.items()
        ],
        "holidays_closed": schedule.closed_on_holidays,
        "full_coverage": schedule.full_coverage,
        "closures": [
            {"from": c.first_day.isoformat(), "to": c.last_day.isoformat(), "name": c.name}
            for c in schedule.closures
        ],
        "open_destination": dest_out(schedule.open_destination),
        "closed_announcement": schedule.closed_announcement,
        "closed_destination": dest_out(schedule.closed_destination),
    } | ({"override": _override_out(schedule, timezone)} if schedule.override_mode else {})
