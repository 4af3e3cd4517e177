"""The one place where the ESL features are put together: handlers, dispatcher, connections."""

from __future__ import annotations

from sqlalchemy import Engine

from fsctl.esl.dispatch import Dispatcher, Handler
from fsctl.esl.handlers import Calls, Parking, Registrations
from fsctl.esl.state import Tenants
from fsctl.gateways.events import GatewayEvents
from fsctl.media.esl_handlers import media_handlers
from fsctl.security.auth_events import security_handlers


def state_handlers(engine: Engine, tenants: Tenants | None = None) -> list[Handler]:
    """The live-state handlers (registrations, calls + ringing, parked calls)."""
    tenants = tenants or Tenants(engine)
    return [Registrations(engine, tenants), Calls(engine, tenants), Parking(engine, tenants)]


def build_dispatcher(engine: Engine) -> Dispatcher:
    # voicemail index + e-mail and call recordings (issue 5)
    # brute-force counting and trusted sources (issue 9)
    # customer gateways' channels in use and refusals by the plan (issue 8)
    return Dispatcher(
        [*state_handlers(engine), *media_handlers(engine), *security_handlers(engine), GatewayEvents(engine)]
    )
