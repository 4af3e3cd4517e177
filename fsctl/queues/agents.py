"""An agent's login state: one function for the phone's codes, the panel and the API.

The state is routing configuration: its flush bumps the tenant's config_version (fsctl.db), which is
what the queue sync job (fsctl.queues.switch) watches to tell the switch.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

log = logging.getLogger(__name__)


def is_agent(session: Session, tenant_id: int, extension: str) -> bool:
    """Whether the user is an agent of at least one of the tenant's queues."""
    query = select(models.CallQueueAgent.id).where(
        models.CallQueueAgent.tenant_id == tenant_id, models.CallQueueAgent.extension == extension
    )
    return session.scalar(query.limit(1)) is not None


def logged_in_agents(session: Session, tenant_id: int) -> set[str]:
    """Extensions of the tenant logged in as agents."""
    query = select(models.QueueAgentState.extension).where(
        models.QueueAgentState.tenant_id == tenant_id, models.QueueAgentState.logged_in.is_(True)
    )
    return set(session.scalars(query))


def set_agent_login(
    session: Session, tenant_id: int, extension: str, logged_in: bool, actor: str
) -> bool | None:
    """Log the user in or out of every queue they belong to; True when it changed, False when it
    already was so, None when the user is no agent of any queue. The caller commits."""
    if not is_agent(session, tenant_id, extension):
        return None
    state = session.scalar(
        select(models.QueueAgentState).where(
            models.QueueAgentState.tenant_id == tenant_id, models.QueueAgentState.extension == extension
        )
    )
    if state is None:
        state = models.QueueAgentState(tenant_id=tenant_id, extension=extension, logged_in=False)
        session.add(state)
    elif state.logged_in == logged_in:
        return False
    state.logged_in = logged_in
    state.changed_at = dt.datetime.now(dt.UTC)
    session.add(
        models.AuditEntry(
            actor=actor[:120],
            tenant_id=tenant_id,
            action="queue.agent",
            detail=f"{extension} {'logged in' if logged_in else 'logged out'}",
        )
    )
    log.info("queue agent %s of tenant %s %s (%s)", extension, tenant_id, "in" if logged_in else "out", actor)
    return True
