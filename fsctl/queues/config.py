"""The tenant file's `call_queues:` section (a fsctl.tenant_file Section).

A queue's number lives in the tenant's numbering beside the extensions, park slots and conference
rooms, so it may be none of them; its agents are the tenant's users. The file stays the whole truth:
queues it no longer lists are removed. Agents' login state is not in the file (it is the agents' own
switch, set from their phones, the panel or the API) and an apply leaves it as it is.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from fsctl import models
from fsctl.schemas import EXTENSION, DestinationSchema, text
from fsctl.tenant_file import ApplyContext, Document, FieldError, Known, SchemaPart, Section
from fsctl.tenant_file.check import destination_error, own_number_errors
from fsctl.tenant_file.export import dest_out

STRATEGIES = tuple(models.QUEUE_STRATEGIES)
DEFAULT_MAX_WAIT = 120
DEFAULT_AGENT_RING = 15


class QueueSchema(Schema):
    """One queue: its number, name, agents in order, ring strategy, maximum wait and overflow."""

    class Meta:
        unknown = RAISE

    number = fields.String(required=True, validate=EXTENSION)
    name = fields.String(validate=text(0, 100), load_default="")
    agents = fields.List(fields.String(validate=EXTENSION), load_default=list)
    strategy = fields.String(
        validate=validate.OneOf(STRATEGIES, error="one of longest_idle, round_robin, ring_all"),
        load_default="longest_idle",
    )
    max_wait_seconds = fields.Integer(
        validate=validate.Range(*models.MAX_WAIT_RANGE, error="from 10 to 3600 seconds"),
        load_default=DEFAULT_MAX_WAIT,
    )
    agent_ring_seconds = fields.Integer(
        validate=validate.Range(5, 120, error="from 5 to 120 seconds"), load_default=DEFAULT_AGENT_RING
    )
    announce_position = fields.Boolean(load_default=True)
    overflow = fields.Nested(DestinationSchema, load_default=None, allow_none=True)


def queue_errors(data: Document, known: Known) -> list[FieldError]:
    """A queue number used twice or taken by an extension, park slot or room; agents that are not
    users or listed twice; an overflow naming nothing."""
    rooms = {r["number"]: ("a conference room", "room") for r in data.get("conference_rooms", ())}
    errors = own_number_errors(data, "call_queues", "queue", rooms)
    extensions = {u["extension"] for u in data["users"]}
    for index, queue in enumerate(data.get("call_queues", [])):
        agents: set[str] = set()
        for position, agent in enumerate(queue["agents"]):
            agent_path = ("call_queues", index, "agents", position)
            if agent not in extensions:
                message = f"{agent} is not a user of this tenant"
                errors.append(FieldError(agent_path, message, "queue_agent_unknown", {"extension": agent}))
            elif agent in agents:
                message = f"{agent} is listed twice"
                errors.append(FieldError(agent_path, message, "queue_agent_twice", {"extension": agent}))
            agents.add(agent)
        problem = destination_error(("call_queues", index, "overflow"), queue["overflow"], known)
        if problem is not None:
            errors.append(problem)
    return errors


def _queues(session: Session, tenant_id: int) -> dict[str, models.CallQueue]:
    # The agents in one query for all queues (an export of many queues stays a few queries).
    query = (
        select(models.CallQueue)
        .where(models.CallQueue.tenant_id == tenant_id)
        .options(selectinload(models.CallQueue.agents))
    )
    return {queue.number: queue for queue in session.scalars(query)}


SETTINGS = ("name", "strategy", "max_wait_seconds", "agent_ring_seconds", "announce_position")


def apply_queues(context: ApplyContext, tenant: models.Tenant, specs: list[dict[str, Any]]) -> None:
    """Make the tenant's queues what `specs` says, writing only what differs."""
    session = context.session
    existing = _queues(session, tenant.id)
    wanted = {spec["number"] for spec in specs}
    for number, queue in existing.items():
        if number not in wanted:
            session.delete(queue)
    for spec in specs:
        queue = existing.get(spec["number"])
        if queue is None:
            queue = models.CallQueue(tenant_id=tenant.id, number=spec["number"])
            session.add(queue)
        for key in SETTINGS:
            if getattr(queue, key) != spec[key]:
                setattr(queue, key, spec[key])
        context.set_dest(queue, "overflow", spec["overflow"])
        set_agents(queue, tenant.id, spec["agents"])


def set_agents(queue: models.CallQueue, tenant_id: int, extensions: list[str]) -> None:
    """The queue's agents in this order, keeping the rows of those who stay."""
    current = {agent.extension: agent for agent in queue.agents}
    kept = []
    for position, extension in enumerate(extensions, start=1):
        agent = current.pop(extension, None) or models.CallQueueAgent(
            tenant_id=tenant_id, extension=extension
        )
        if agent.position != position:
            agent.position = position
        kept.append(agent)
    if [a.extension for a in queue.agents] != extensions or current:
        queue.agents = kept


def export_queue(queue: models.CallQueue) -> dict[str, Any]:
    """One queue in the file's format."""
    return {
        "number": queue.number,
        "name": queue.name,
        "agents": [agent.extension for agent in queue.agents],
        "strategy": queue.strategy,
        "max_wait_seconds": queue.max_wait_seconds,
        "agent_ring_seconds": queue.agent_ring_seconds,
        "announce_position": queue.announce_position,
        "overflow": dest_out(queue.overflow),
    }


def export_queues(tenant: models.Tenant) -> list[dict[str, Any]]:
    """The tenant's queues in the file's format, by number."""
    session = object_session(tenant)
    if session is None or tenant.id is None:
        return []
    return [export_queue(q) for q in sorted(_queues(session, tenant.id).values(), key=lambda q: q.number)]


class QueueSection(Section):
    """Call queues: number, name, agents, strategy, maximum wait, overflow, position announcement."""

    name = "call_queues"

    def schema(self) -> SchemaPart:
        return SchemaPart(top={"call_queues": fields.List(fields.Nested(QueueSchema), load_default=list)})

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return queue_errors(data, known)

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_queues(context, tenant, context.data.get("call_queues", []))

    def export(self, tenant: models.Tenant, document: Document) -> None:
        document["call_queues"] = export_queues(tenant)
