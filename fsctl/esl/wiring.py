"""The ESL dispatcher with every feature's handlers (named in fsctl.wiring, the composition root)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from fsctl.esl.dispatch import Dispatcher
from fsctl.security.bans import BanListener
from fsctl.wiring import esl_handlers, state_handlers


def build_dispatcher(
    engine: Engine,
    send_event: Callable[[str, dict[str, str], str], object] | None = None,
    on_ban: BanListener | None = None,
    send_api: Callable[[str, str], object] | None = None,
) -> Dispatcher:
    """A dispatcher holding every feature's ESL handlers (`send_event` and `send_api`: the event
    sockets', with the node to send to, fsctl.esl.nodes.SwitchNodes; `on_ban`: see
    fsctl.wiring.esl_handlers)."""
    return Dispatcher(esl_handlers(engine, send_event, on_ban, send_api))


__all__ = ["build_dispatcher", "state_handlers"]
