"""`*78` / `*79` from a phone: the feature code's CUSTOM event becomes the stored setting.

The event comes from the dialplan kumo rendered for the authenticated caller (fsctl.routing.dnd):
its kumo_domain and kumo_extension headers are ours, and it is a CUSTOM event no phone can fire.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, select

from fsctl import models
from fsctl.db import make_session_factory, session_scope
from fsctl.dnd import set_do_not_disturb
from fsctl.esl.dispatch import Handler
from fsctl.esl.events import Event
from fsctl.routing.dnd import DND_EVENT

log = logging.getLogger(__name__)


class DoNotDisturbEvents(Handler):
    """CUSTOM kumo::dnd -> users.do_not_disturb (and an audit entry)."""

    events = (DND_EVENT,)
    name = "do_not_disturb"

    def __init__(self, engine: Engine):
        self.sessions = make_session_factory(engine)

    def handle(self, event: Event) -> None:
        domain = event.get("kumo_domain").lower()
        extension = event.get("kumo_extension")
        state = event.get("kumo_dnd")
        if not domain or not extension or state not in ("on", "off"):
            log.warning("do not disturb event without domain, extension or state: ignored")
            return
        with session_scope(self.sessions) as session:
            tenant_id = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
            if tenant_id is None:
                log.warning("do not disturb for %s@%s: no such tenant", extension, domain)
                return
            changed = set_do_not_disturb(session, tenant_id, extension, state == "on", f"phone {extension}")
            if changed is None:
                log.warning("do not disturb for %s@%s: no such user", extension, domain)
