"""Where features plug into call routing: typed steps the planners call, filled by fsctl.wiring.

Routing names no feature. A feature that changes how external calls leave (caps, a customer's own
gateway) hands the planners an `OutboundStep`; one that routes emergency calls differently hands an
`OutboundStep` for emergencies. Without any step a call goes out through the platform's carrier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fsctl.numbering import Classified
from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import TenantSnap, UserSnap


class OutboundStep(Protocol):
    """Runs before the platform's carrier takes an external call: it may add actions to the plan,
    and returns True when it settled the call (refused it, or sent it another way)."""

    def __call__(self, plan: Plan, tenant: TenantSnap, number: Classified, user: UserSnap | None) -> bool: ...


@dataclass(frozen=True)
class RoutingSteps:
    """The features' steps, in the order they run; `outbound` before the carrier on every external
    call (forwards included), `emergency` before the carrier on an emergency call."""

    outbound: tuple[OutboundStep, ...] = ()
    emergency: tuple[OutboundStep, ...] = ()


# The platform alone: every external call goes to the carrier.
NO_STEPS = RoutingSteps()
