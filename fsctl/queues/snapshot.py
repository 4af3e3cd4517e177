"""Call queues' part of a TenantSnap (a snapshot part fsctl.wiring names)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.snapshot import Dest, QueueSnap

FetchAll = Callable[[str, Sequence[Any]], list[tuple]]

_QUEUES = (
    "SELECT id, number, name, strategy, max_wait_seconds, agent_ring_seconds, announce_position, overflow_id"
    " FROM call_queues WHERE tenant_id = ? ORDER BY number"
)
_AGENTS = (
    "SELECT queue_id, extension FROM call_queue_agents WHERE tenant_id = ? ORDER BY queue_id, position, id"
)


def queues_snapshot_part(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> dict[str, Any]:
    """TenantSnap keyword arguments: the tenant's queues by number, with their agents in order."""
    agents: dict[int, list[str]] = {}
    for queue_id, extension in fetch_all(_AGENTS, (tenant_id,)):
        agents.setdefault(queue_id, []).append(extension)
    queues = {
        number: QueueSnap(
            number,
            name or "",
            strategy,
            max_wait,
            ring,
            bool(announce),
            dest(overflow_id),
            tuple(agents.get(queue_id, ())),
        )
        for queue_id, number, name, strategy, max_wait, ring, announce, overflow_id in fetch_all(
            _QUEUES, (tenant_id,)
        )
    }
    return {"queues": queues}


_OVERFLOWS = "SELECT overflow_id FROM call_queues WHERE tenant_id = ? AND overflow_id IS NOT NULL"


def queue_overflows(
    fetch_all: FetchAll, tenant_id: int, dest: Callable[[Any], Dest | None]
) -> list[Dest | None]:
    """Where callers go on from the tenant's queues: a snapshot read for one number also reads the
    users these can ring (fsctl.snapshots.rows, a part's `reach`), as a number may lead to a queue."""
    return [dest(overflow_id) for (overflow_id,) in fetch_all(_OVERFLOWS, (tenant_id,))]


queues_snapshot_part.reach = queue_overflows  # type: ignore[attr-defined]
