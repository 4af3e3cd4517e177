"""Setting and ending a schedule's override (臨時休業 / 臨時営業) from the panel and the API.

Both go through the tenant file like every other change (webpanel.tenantdoc.save_tenant): the
schedule's entry gets `override: {mode, until}`. The until is checked here first, where "now" is
known (the file itself accepts an until already past, kept as written): it must lie ahead.
Without one the override holds until the regular hours next turn to that state
(fsctl.routing.schedules.default_override_until), or with `until` None until it is ended.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fsctl import models
from fsctl.schedule_override import default_until
from webpanel.i18n import N_

# The messages, English here and in the API, in the user's language on the panel's form (tr()).
NOT_DATETIME = N_("not a date and time such as 2026-12-07T18:00+09:00")
NOT_MODE = N_("open or closed")
NOT_AHEAD = N_("must be later than now")

DEFAULT = object()  # "no until given": the next regular change


class OverrideInputError(ValueError):
    """An input naming its field (`mode`, `until`), with an English message the catalogue translates."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_until(text: str, timezone: str) -> dt.datetime:
    """A form's or body's until: ISO with an offset, or a wall-clock time on the tenant's clock
    (what <input type=datetime-local> sends)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise OverrideInputError("until", NOT_DATETIME) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))


def override_entry(
    schedule: models.Schedule, mode: Any, until: Any, timezone: str, now: dt.datetime
) -> dict[str, Any]:
    """The entry's `override` for `mode` (open/closed) and `until` (text, None = until ended, DEFAULT)."""
    if mode not in ("open", "closed"):
        raise OverrideInputError("mode", NOT_MODE)
    if until is DEFAULT:
        moment: dt.datetime | None = default_until(schedule, mode, timezone, now)
    elif until is None or until == "":
        moment = None
    elif isinstance(until, str):
        moment = parse_until(until, timezone)
    else:
        raise OverrideInputError("until", NOT_DATETIME)
    if moment is not None and moment <= now:
        raise OverrideInputError("until", NOT_AHEAD)
    out: dict[str, Any] = {"mode": mode}
    if moment is not None:
        out["until"] = moment.astimezone(ZoneInfo(timezone)).isoformat()
    return out


def set_override(doc: dict, name: str, override: dict[str, Any] | None) -> None:
    """Put `override` on the schedule entry named `name` (None: the override ends)."""
    for entry in doc["schedules"]:
        if entry["name"] == name:
            if override is None:
                entry.pop("override", None)
            else:
                entry["override"] = override
            return
    raise KeyError(name)
