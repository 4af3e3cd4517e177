"""Call queues' events: the login/logout codes' CUSTOM kumo::queue_agent becomes the stored state;
mod_callcenter's callcenter::info events keep the callers in each queue (the live view).

The kumo::queue_agent event comes from the dialplan kumo rendered for the authenticated caller
(fsctl.routing.queues); the channel data the switch adds must agree: the call's context is that
tenant's domain, so no other tenant's phone can log into this tenant's queues.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, delete, select, update

from fsctl import models
from fsctl.db import make_session_factory, session_scope
from fsctl.esl.dispatch import Handler
from fsctl.esl.events import Event
from fsctl.queues.agents import set_agent_login
from fsctl.routing.queues import AGENT_EVENT

log = logging.getLogger(__name__)

CALLCENTER_EVENT = "callcenter::info"


def _tenant_id(session, domain: str) -> int | None:
    return session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain.lower()))


class QueueAgentEvents(Handler):
    """CUSTOM kumo::queue_agent -> queue_agent_states (and an audit entry)."""

    events = (AGENT_EVENT,)
    name = "queue_agents"

    def __init__(self, engine: Engine):
        self.sessions = make_session_factory(engine)

    def handle(self, event: Event) -> None:
        domain, extension = event.get("kumo_domain").lower(), event.get("kumo_extension")
        action = event.get("kumo_agent")
        if not domain or not extension.isdigit() or action not in ("login", "logout"):
            log.warning("queue agent event without domain, extension or action: ignored")
            return
        if event.get("Caller-Context").lower() != domain:
            log.warning(
                "queue agent %s for %s from context %r refused", action, domain, event.get("Caller-Context")
            )
            return
        with session_scope(self.sessions) as session:
            tenant_id = _tenant_id(session, domain)
            if tenant_id is None:
                log.warning("queue agent %s@%s: no such tenant", extension, domain)
                return
            changed = set_agent_login(
                session, tenant_id, extension, action == "login", f"phone:{extension}@{domain}"
            )
            if changed is None:
                log.info("queue agent %s@%s: not an agent of any queue", extension, domain)


def _split(name: str) -> tuple[str, str] | None:
    """(number, domain) of a switch-side `number@domain` name."""
    number, at, domain = name.partition("@")
    return (number, domain) if at and number.isdigit() and domain else None


class QueueCallers(Handler):
    """callcenter::info member-queue-start / bridge-agent-start / member-queue-end -> queue_callers."""

    events = (CALLCENTER_EVENT,)
    name = "queue_callers"

    def __init__(self, engine: Engine):
        self.sessions = make_session_factory(engine)

    def handle(self, event: Event) -> None:
        action = event.get("CC-Action")
        queue = _split(event.get("CC-Queue"))
        uuid = event.get("CC-Member-Session-UUID")
        if (
            queue is None
            or not uuid
            or action not in ("member-queue-start", "bridge-agent-start", "member-queue-end")
        ):
            return
        number, domain = queue
        with session_scope(self.sessions) as session:
            if action == "member-queue-end":
                session.execute(delete(models.QueueCaller).where(models.QueueCaller.uuid == uuid))
                return
            tenant_id = _tenant_id(session, domain)
            if tenant_id is None:
                return
            if action == "bridge-agent-start":
                agent = _split(event.get("CC-Agent"))
                session.execute(
                    update(models.QueueCaller)
                    .where(models.QueueCaller.uuid == uuid, models.QueueCaller.tenant_id == tenant_id)
                    .values(agent=agent[0] if agent else "")
                )
                return
            if session.scalar(select(models.QueueCaller.id).where(models.QueueCaller.uuid == uuid)) is None:
                session.add(
                    models.QueueCaller(
                        node=event.node,
                        tenant_id=tenant_id,
                        queue_number=number,
                        uuid=uuid,
                        caller_number=event.get("CC-Member-CID-Number")[:64],
                        caller_name=event.get("CC-Member-CID-Name")[:128],
                        since=dt.datetime.now(dt.UTC),
                    )
                )
