"""Every FreeSWITCH node's inbound event socket, and the one place that decides where a command goes.

kumo follows each node it is given (`FSCTL_ESL_ADDRESS`, comma separated): one InboundConnection
per address, each reconnecting and resyncing on its own, all feeding one dispatcher, so the live
tables hold every node's rows, each marked with its node (fsctl.esl.handlers). A command goes:
- about a call (uuid_*, valet, a registration to remove): to the node that holds it, the `node` of
  its live row or of the event that asked (`api(command, node)`);
- configuration sync (directory cache flushes, ACL reloads, call queues): to every node; what is
  not connected then gets everything again when it reconnects (each watcher's `on_connect`).
A node not known by name (a row written before nodes were recorded, a switch that gave no
switchname) is the only switch when there is one; with several, every connected node is asked in
turn until one accepts (a uuid command on a node without that call answers -ERR and nothing else).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from fsctl.esl.connection import CommandTimeout, NotConnected, Reply
from fsctl.esl.dispatch import Dispatcher
from fsctl.esl.inbound import InboundConnection
from fsctl.metrics import Metrics

log = logging.getLogger(__name__)


def address_label(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


class SwitchNodes:
    """The inbound connections to every node (one per address), sharing one dispatcher."""

    def __init__(
        self,
        addresses: Sequence[tuple[str, int]],
        password: str,
        metrics: Metrics,
        dispatcher: Dispatcher | None = None,
        **connection_options,
    ):
        if not addresses:
            raise ValueError("no event socket address")
        self.connections = [
            InboundConnection(
                tuple(address),
                password,
                metrics,
                dispatcher=dispatcher,
                metrics_link=link,
                owns_dispatcher=False,
                **connection_options,
            )
            for link, address in enumerate(addresses)
        ]
        self._dispatcher = dispatcher

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def dispatcher(self) -> Dispatcher | None:
        return self._dispatcher

    @dispatcher.setter
    def dispatcher(self, dispatcher: Dispatcher | None) -> None:
        self._dispatcher = dispatcher
        for connection in self.connections:
            connection.dispatcher = dispatcher

    def set_on_connect(self, hook: Callable[[InboundConnection], None]) -> None:
        """Called with the connection after each (re)connection of any node."""
        for connection in self.connections:
            connection.on_connect = hook

    def start(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.start()
        for connection in self.connections:
            connection.start()

    def stop(self) -> None:
        for connection in self.connections:
            connection.stop()
        if self._dispatcher is not None:
            self._dispatcher.stop()

    @property
    def connected(self) -> bool:
        """Every node is connected."""
        return all(c.connected for c in self.connections)

    def status(self) -> dict[str, dict[str, str]]:
        """Per address: the node's name and whether it is connected (as /healthz shows it)."""
        return {
            address_label(c.address): {
                "node": c.node,
                "state": "connected" if c.connected else "disconnected",
            }
            for c in self.connections
        }

    # -- which connection ------------------------------------------------------------------------
    def connection_for(self, node: str) -> InboundConnection | None:
        """The connection of a node known by name; None when no connection has that name."""
        if node:
            for connection in self.connections:
                if connection.node == node:
                    return connection
        return None

    def _targets(self, node: str) -> list[InboundConnection]:
        connection = self.connection_for(node)
        if connection is not None:
            return [connection]
        if len(self.connections) == 1:
            return list(self.connections)
        return [c for c in self.connections if c.connected]

    def api(self, command: str, node: str = "", timeout: float | None = None) -> Reply:
        """Send a command (`api ...`, `bgapi ...`) to the node that holds what it is about."""
        return self._first_accepted(node, lambda c: c.api(command, timeout=timeout))

    def send_event(
        self, name: str, headers: dict[str, str], node: str = "", timeout: float | None = None
    ) -> Reply:
        """Have one node fire an event (`sendevent`): the node whose event asked for it."""
        return self._first_accepted(node, lambda c: c.send_event(name, headers, timeout=timeout))

    def _first_accepted(self, node: str, send: Callable[[InboundConnection], Reply]) -> Reply:
        targets = self._targets(node)
        if not targets:
            raise NotConnected(f"event socket of node {node or '?'} not connected")
        reply: Reply | None = None
        error: Exception | None = None
        for connection in targets:
            try:
                reply = send(connection)
            except (NotConnected, CommandTimeout) as exc:
                error = exc
                continue
            if reply.ok:
                return reply
        if reply is None:
            raise error or NotConnected("event socket not connected")
        return reply

    def api_everywhere(self, command: str, timeout: float | None = None) -> Reply:
        """Send a configuration command to every connected node; the first refusal, else the last
        reply. Raises when no node is connected, or when one failed (the caller tries again)."""
        replies: list[Reply] = []
        error: Exception | None = None
        for connection in self.connections:
            if not connection.connected:
                continue
            try:
                replies.append(connection.api(command, timeout=timeout))
            except (NotConnected, CommandTimeout) as exc:
                log.warning(
                    "%s not sent to %s: %s", command.split(" ")[:3], address_label(connection.address), exc
                )
                error = error or exc
        if error is not None:
            raise error
        if not replies:
            raise NotConnected("no event socket connected")
        return next((r for r in replies if not r.ok), replies[-1])
