"""A schedule's day/night override as stored: its routing picture from the row, the default until,
and the one write the phone's feature code makes (the panel and the API write it through the tenant
file, like every other change). Setting or clearing it changes the schedules row, which bumps the
tenant's config_version (fsctl.db): the very next call is decided by it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from fsctl import models
from fsctl.routing.schedules import default_override_until
from fsctl.routing.snapshot import Closure, Override, Period, ScheduleSnap

MODES = ("open", "closed")


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored instant as an aware UTC datetime (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def stored_override(schedule: models.Schedule) -> Override | None:
    """The row's override as routing reads it (None: no override)."""
    if schedule.override_mode not in MODES:
        return None
    return Override(schedule.override_mode, aware(schedule.override_until))


def schedule_snap(schedule: models.Schedule) -> ScheduleSnap:
    """The row as routing sees it (periods, holidays, closures, override; destinations left out)."""
    return ScheduleSnap(
        name=schedule.name,
        periods=tuple(Period(p.weekday, p.start_minute, p.end_minute) for p in schedule.periods),
        closures=tuple(Closure(c.first_day, c.last_day, c.name) for c in schedule.closures),
        closed_on_holidays=schedule.closed_on_holidays,
        override=stored_override(schedule),
    )


def default_until(schedule: models.Schedule, mode: str, timezone: str, now: dt.datetime) -> dt.datetime:
    """Until when an override of `mode` set at `now` holds when nobody says (UTC)."""
    return default_override_until(schedule_snap(schedule), mode, timezone, now).astimezone(dt.UTC)


def write_override(
    session: Session,
    schedule: models.Schedule,
    mode: str | None,
    until: dt.datetime | None,
    actor: str,
) -> bool:
    """Set (`mode` open/closed, `until` aware or None) or clear (`mode` None) the override, with an
    audit entry; False when it was already so (nothing written, no version bump)."""
    until = until.astimezone(dt.UTC) if until is not None and mode is not None else None
    if schedule.override_mode == mode and aware(schedule.override_until) == until:
        return False
    schedule.override_mode = mode
    schedule.override_until = until
    session.add(
        models.AuditEntry(
            actor=actor[:120],
            tenant_id=schedule.tenant_id,
            action="schedule.override",
            detail=json.dumps(
                {"summary": schedule.name, "mode": mode, "until": until.isoformat() if until else None}
            ),
        )
    )
    return True
