"""The day/night override dialled from a phone (*21 / *22 / *23, fsctl.routing.override): the
dialplan fires CUSTOM kumo::schedule_override, this handler writes it.

The event's tenant id, schedule and mode come from the plan kumo rendered for that caller's own
context; the channel data FreeSWITCH adds to the event (`event` in mod_dptools sets it after our
headers) must agree: the call's context is that tenant's domain, so nothing another tenant's phone
can dial reaches this tenant's schedules.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from sqlalchemy import Engine, select

from fsctl import models
from fsctl.db import make_session_factory, session_scope
from fsctl.esl.dispatch import Handler
from fsctl.esl.events import Event
from fsctl.routing.override import OVERRIDE_EVENT
from fsctl.schedule_override import default_until, write_override

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EXTENSION = re.compile(r"^[0-9]{2,6}$")


class ScheduleOverrides(Handler):
    """kumo::schedule_override -> the schedule's override_mode / override_until."""

    events = (OVERRIDE_EVENT,)
    name = "schedule overrides"

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] | None = None):
        self.sessions = make_session_factory(engine)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def handle(self, event: Event) -> None:
        tenant_id, name = event.get("kumo_tenant"), event.get("kumo_schedule")
        mode, by = event.get("kumo_override"), event.get("kumo_by")
        if not tenant_id.isdigit() or not _NAME.match(name) or mode not in ("open", "closed", "none"):
            log.warning(
                "schedule override event with unusable fields ignored: %r %r %r", tenant_id, name, mode
            )
            return
        with session_scope(self.sessions) as session:
            tenant = session.get(models.Tenant, int(tenant_id))
            if tenant is None or event.get("Caller-Context").lower() != tenant.domain:
                log.warning(
                    "schedule override for tenant %s from context %r refused",
                    tenant_id,
                    event.get("Caller-Context"),
                )
                return
            schedule = session.scalar(
                select(models.Schedule).where(
                    models.Schedule.tenant_id == tenant.id, models.Schedule.name == name
                )
            )
            if schedule is None:
                log.info("schedule override: %s has no schedule %r (removed since?)", tenant.domain, name)
                return
            actor = f"phone:{by}@{tenant.domain}" if _EXTENSION.match(by) else f"phone@{tenant.domain}"
            if mode == "none":
                changed = write_override(session, schedule, None, None, actor)
            else:
                until = default_until(schedule, mode, tenant.timezone or "Asia/Tokyo", self.clock())
                changed = write_override(session, schedule, mode, until, actor)
            log.info(
                "schedule %r of %s: override %s by %s%s",
                name,
                tenant.domain,
                mode,
                actor,
                "" if changed else " (unchanged)",
            )
