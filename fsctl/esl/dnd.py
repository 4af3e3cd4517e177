"""`*78` / `*79` from a phone: the feature code's CUSTOM event becomes the stored setting; a busy-lamp
key subscribing to `dnd+<ext>@<domain>` is told the stored state.

The event comes from the dialplan kumo rendered for the authenticated caller (fsctl.routing.dnd):
its kumo_domain and kumo_extension headers are ours, and it is a CUSTOM event no phone can fire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, select

from fsctl import models
from fsctl.db import make_session_factory, session_scope
from fsctl.dnd import set_do_not_disturb
from fsctl.esl.connection import CommandTimeout, NotConnected
from fsctl.esl.dispatch import Handler
from fsctl.esl.events import Event
from fsctl.routing.dnd import DND_EVENT, lamp_target, presence_headers

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


class DoNotDisturbLamps(Handler):
    """PRESENCE_PROBE of a `dnd+<ext>@<domain>` lamp -> its stored state, as PRESENCE_IN.

    On a SUBSCRIBE sofia fires PRESENCE_PROBE (to = the URI subscribed to) and sends the first
    NOTIFY only when someone answers with presence; for `park+` mod_valet_parking does, for `dnd+`
    this handler. The subscription was authenticated in the subscriber's own domain, and the
    directory refuses one naming another tenant's host (fsctl.xmlcurl.directory), so the probe is of
    the subscriber's own tenant.
    """

    events = ("PRESENCE_PROBE",)
    name = "do_not_disturb_lamps"

    def __init__(self, engine: Engine, send_event: Callable[[str, dict[str, str], str], object]):
        """`send_event(name, headers, node)`: fires the event on that node (the probe's own)."""
        self.sessions = make_session_factory(engine)
        self.send_event = send_event

    def handle(self, event: Event) -> None:
        target = lamp_target(event.get("to"))
        if target is None:
            return
        extension, domain = target
        with session_scope(self.sessions) as session:
            on = session.scalar(
                select(models.User.do_not_disturb)
                .join(models.Tenant, models.Tenant.id == models.User.tenant_id)
                .where(models.Tenant.domain == domain, models.User.extension == extension)
            )
        if on is None:
            return  # no such user: the lamp stays dark
        try:
            self.send_event("PRESENCE_IN", presence_headers(domain, extension, bool(on)), event.node)
        except (NotConnected, CommandTimeout) as exc:
            log.warning("do not disturb lamp of %s@%s not sent: %s", extension, domain, exc)
