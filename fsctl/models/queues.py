"""Call queues (ACD): per-tenant queues, their agents, the agents' login state and the callers waiting.

A queue's switch-side name is `<number>@<domain>` and an agent's `<extension>@<domain>` (mod_callcenter
has one namespace for the whole switch), so two tenants' queues 600 and agents 101 never meet.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fsctl.models.base import Base, destination_fk, node_column, utc_now
from fsctl.models.tenancy import Destination

# The file's and the panel's strategy names -> mod_callcenter's (queue_set_config in mod_callcenter.c).
QUEUE_STRATEGIES = {
    "longest_idle": "longest-idle-agent",
    "round_robin": "round-robin",
    "ring_all": "ring-all",
}
MAX_WAIT_RANGE = (10, 3600)


class CallQueue(Base):
    """A queue callers reach by its number (an extension-like number of the tenant): they wait with
    the tenant's music, hear their position, and reach a logged-in agent by `strategy`; after
    `max_wait_seconds` they go on to `overflow`."""

    __tablename__ = "call_queues"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_call_queues_tenant_number"),
        CheckConstraint("length(number) BETWEEN 2 AND 6", name="number_length"),
        CheckConstraint("strategy IN ('longest_idle', 'round_robin', 'ring_all')", name="strategy_known"),
        CheckConstraint(
            f"max_wait_seconds BETWEEN {MAX_WAIT_RANGE[0]} AND {MAX_WAIT_RANGE[1]}", name="max_wait_range"
        ),
        CheckConstraint("agent_ring_seconds BETWEEN 5 AND 120", name="agent_ring_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(100), default="")
    strategy: Mapped[str] = mapped_column(String(20), default="longest_idle")
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=120)
    # How long one agent's phone rings before the next one is tried.
    agent_ring_seconds: Mapped[int] = mapped_column(Integer, default=15)
    announce_position: Mapped[bool] = mapped_column(Boolean, default=True)
    overflow_id: Mapped[int | None] = destination_fk()
    overflow: Mapped[Destination | None] = relationship(foreign_keys=[overflow_id], post_update=True)
    agents: Mapped[list[CallQueueAgent]] = relationship(
        back_populates="queue", cascade="all, delete-orphan", order_by="CallQueueAgent.position"
    )


class CallQueueAgent(Base):
    """A user of the tenant who answers the queue's calls while logged in (its order: `position`)."""

    __tablename__ = "call_queue_agents"
    __table_args__ = (UniqueConstraint("queue_id", "extension", name="uq_call_queue_agents_queue_extension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id", ondelete="CASCADE"), index=True)
    extension: Mapped[str] = mapped_column(String(6))
    position: Mapped[int] = mapped_column(Integer, default=1)
    queue: Mapped[CallQueue] = relationship(back_populates="agents")


class QueueAgentState(Base):
    """Whether a user is logged in as an agent (feature codes, the panel, the API): one state for all
    the queues the user belongs to, as mod_callcenter keeps one status per agent. Kept in the database
    so a restarted switch or service gets it back; a change bumps the tenant's config_version, which
    is what sends it to the switch (fsctl.queues.switch)."""

    __tablename__ = "queue_agent_states"
    __table_args__ = (
        UniqueConstraint("tenant_id", "extension", name="uq_queue_agent_states_tenant_extension"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(6))
    logged_in: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class QueueCaller(Base):
    """A caller in a queue now (live state from mod_callcenter's callcenter::info events): waiting,
    or talking to `agent` once answered; gone when the caller leaves the queue."""

    __tablename__ = "queue_callers"
    __tenant_config__ = False
    __table_args__ = (
        UniqueConstraint("uuid", name="uq_queue_callers_uuid"),
        Index("ix_queue_callers_tenant", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    queue_number: Mapped[str] = mapped_column(String(6))
    uuid: Mapped[str] = mapped_column(String(64))
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    # "" while waiting; the agent's extension once answered.
    agent: Mapped[str] = mapped_column(String(6), default="")
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    node: Mapped[str] = node_column()
