"""Per-tenant caps on external calls beyond the channel plan: call rate, calls per user, spend suspension.

Pure (planners call it): what the tenant snapshot says becomes `limit hash` actions in the plan.

mod_hash facts (src/mod/applications/mod_hash/mod_hash.c, limit_incr_hash; limit_function in
mod_dptools.c parses `<max>[/<interval>]`):
- `limit hash <realm> <resource> <max>/<interval>` is a rate: at most <max> calls per <interval> seconds,
  a fixed window that restarts when the first call after it arrives; over it the call ends with the cause
  after `!`. The counter lives in one switch process (per node with several switches).
- the counter is keyed `<realm>_<resource>` and a channel counts once per key, so the rate and the
  concurrent caps use realms of their own and never share an item with the channel plan's
  `limit hash kumo_external <tenant> <max>`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsctl.routing.plan import Plan
    from fsctl.routing.snapshot import TenantSnap, UserSnap

RATE_REALM = "kumo_rate"
USER_REALM = "kumo_user_external"
# No row in security_tenant_limits: 2 new external calls per second per tenant (a small office dials far
# fewer; a stolen password driving a dialler hits it at once), no per-user cap.
DEFAULT_RATE = (2, 1)

_LIMITS = (
    "SELECT calls_per_interval, interval_seconds, user_external_calls, external_suspended"
    " FROM security_tenant_limits WHERE tenant_id = ?"
)


def limit_fields(row: tuple | None) -> dict:
    """TenantSnap fields from a (calls_per_interval, interval_seconds, user_external_calls,
    external_suspended) row of security_tenant_limits, or the defaults when there is none."""
    if row is None:
        return {}
    calls, interval, per_user, suspended = row
    return {
        "external_rate": (int(calls), max(1, int(interval))),
        "user_external_calls": int(per_user),
        "external_suspended": bool(suspended),
    }


def limits_snapshot_part(
    fetch_all: Callable[[str, Sequence[Any]], list[tuple]], tenant_id: int, dest: Any = None
) -> dict:
    """The tenant's caps as TenantSnap fields (the snapshot part fsctl.snapshots runs)."""
    return limit_fields(next(iter(fetch_all(_LIMITS, (tenant_id,))), None))


def apply_call_caps(plan: Plan, tenant: TenantSnap, user: UserSnap | None) -> bool:
    """Add the rate and per-user caps before an external bridge; False (plan refused) when suspended."""
    if tenant.external_suspended:
        plan.refuse(
            "external_suspended",
            "OUTGOING_CALL_BARRED",
            "external calls are suspended after a spend alert until an operator or the tenant re-enables them",
        )
        return False
    calls, interval = tenant.external_rate
    if calls > 0:
        plan.decide("call rate", f"at most {calls} new external calls per {interval} s for {tenant.domain}")
        # 503 rather than 486: the caller may simply try again a moment later.
        plan.add("limit", f"hash {RATE_REALM} {tenant.id} {calls}/{interval} !NORMAL_TEMPORARY_FAILURE")
    if user is not None and tenant.user_external_calls > 0:
        cap = tenant.user_external_calls
        plan.decide("calls per user", f"at most {cap} external calls at once for {user.extension}")
        plan.add("limit", f"hash {USER_REALM} {tenant.id}_{user.extension} {cap} !USER_BUSY")
    return True


def call_caps_step(plan: Plan, tenant: TenantSnap, number: Any, user: UserSnap | None) -> bool:
    """The caps as an outbound step of routing: True (the call is settled: refused) when suspended."""
    return not apply_call_caps(plan, tenant, user)
