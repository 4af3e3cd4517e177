"""The planners and the snapshot loader as the service wires them (fsctl.wiring), for tests.

Routing takes the numbering plan and the features' steps as arguments; these wrappers pass the
platform's plan and every feature's steps unless a test passes its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from fsctl.gateways import inbound
from fsctl.numbering import default_plan
from fsctl.routing import blind_transfer, calls
from fsctl.routing.snapshot import TenantSnap
from fsctl.snapshots import FetchAll, session_rows
from fsctl.snapshots import rows as snapshot_rows
from fsctl.wiring import routing_steps, snapshot_parts, snapshots


def _wired(planner: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(planner)
    def planned(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("numbering", default_plan())
        kwargs.setdefault("steps", routing_steps())
        return planner(*args, **kwargs)

    return planned


plan_from_phone = _wired(calls.plan_from_phone)
plan_from_carrier = _wired(calls.plan_from_carrier)
plan_continuation = _wired(calls.plan_continuation)
plan_blind_transfer = _wired(blind_transfer.plan_blind_transfer)
plan_from_gateway = _wired(inbound.plan_from_gateway)


def load_snapshot(
    session: Session, tenant_id: int | None = None, domain: str | None = None
) -> TenantSnap | None:
    """A tenant's snapshot read on an ORM session's connection, as `fsctl trace` reads it."""
    loader, rows = snapshots(), session_rows(session)
    return loader.by_id(rows, tenant_id) if tenant_id is not None else loader.by_domain(rows, domain or "")


def load_snapshot_rows(fetch_all: FetchAll, tenant_id: int) -> TenantSnap | None:
    """A tenant's snapshot read with `fetch_all` (the lookup store's), every feature's part included."""
    return snapshot_rows.load_snapshot_rows(fetch_all, tenant_id, snapshot_parts())
