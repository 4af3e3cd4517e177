"""The inbound event-socket connection: connect, authenticate, subscribe, resync, and keep reconnecting.

FreeSWITCH may be down or restarting at any time; the service then retries with back-off and says so
once per state change rather than once per attempt. Every step has a timeout (greenswitch 0.0.19's
connect and send wait forever, defect 3). After each (re)connection the subscription is sent again
and the live state is read back from the switch (`show channels as json`, `valet_info`,
`show registrations as json`): the switch keeps nothing for a client that was away. The node's
name (`api switchname`) is asked first, so that read-back replaces this node's rows only when kumo
follows several nodes (fsctl.esl.nodes, one InboundConnection each).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import gevent
import gevent.socket
from gevent.event import Event as Flag

from fsctl.esl.connection import CommandTimeout, Connection, NotConnected, Reply
from fsctl.esl.dispatch import Dispatcher
from fsctl.esl.events import SNAPSHOT, event_from_frame, snapshot
from fsctl.esl.protocol import Frame, ProtocolError, sendevent_bytes
from fsctl.metrics import Metrics

log = logging.getLogger(__name__)

# Always asked for: HEARTBEAT proves the link is alive; the rest come from the handlers.
BASE_EVENTS = ("HEARTBEAT",)
# Without handlers (a bare connection): the basics.
SUBSCRIPTION = "HEARTBEAT CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE CUSTOM"
RESYNC = (
    ("channels", "show channels as json"),
    ("valet", "valet_info"),
    ("registrations", "show registrations as json"),
)
# The events' wire format. Both are decoded (fsctl.esl.protocol); json costs ~40 us per channel
# event against ~100 us for plain (bench.esl), since the C json parser does what plain needs in
# Python: split ~160 header lines and URL-decode every value.
EVENT_FORMAT = "json"
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0
MAX_BACKOFF = 30.0
# What a node's switchname may be to be recorded (the contract's node names, and any hostname,
# FreeSWITCH's default switchname, up to the column's 63 characters).
NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# With HEARTBEAT every 20 s, this much silence means the link is dead even if TCP has not noticed.
IDLE_PROBE = 30.0


class AuthError(ValueError):
    """The switch refused our password."""


def subscription_command(dispatcher: Dispatcher | None, fmt: str = "plain") -> str:
    if dispatcher is None:
        return f"event {fmt} {SUBSCRIPTION}"
    keys = dispatcher.subscribed
    if "*" in keys:
        return f"event {fmt} ALL"
    names = sorted({*BASE_EVENTS, *(k for k in keys if "::" not in k and k.isupper())})
    # The resync snapshot is kumo's own, queued among the events, never one the switch fires; other
    # kumo:: subclasses are (the `event` application of a plan kumo rendered: fsctl.routing.dnd).
    subclasses = sorted(k for k in keys if "::" in k and k != SNAPSHOT)
    parts = [f"event {fmt}", *names]
    if subclasses:
        parts += ["CUSTOM", *subclasses]
    return " ".join(parts)


class _Link(Connection):
    """The socket of one inbound connection: decodes events and hands them to the dispatcher."""

    def __init__(self, sock, owner: InboundConnection):
        super().__init__(sock, command_timeout=owner.command_timeout, name="inbound event socket")
        self.owner = owner
        self.last_frame = time.monotonic()

    def _on_frame(self, frame: Frame) -> None:
        self.last_frame = time.monotonic()
        super()._on_frame(frame)

    def on_event_frame(self, frame: Frame) -> None:
        owner = self.owner
        owner.metrics.esl_event(owner.metrics_link)
        dispatcher = owner.dispatcher
        if dispatcher is None:
            return
        try:
            event = event_from_frame(frame, dispatcher.wants)
        except (ValueError, ProtocolError):
            log.debug("undecodable event frame skipped")
            return
        if event is not None:
            dispatcher.submit(event)

    def on_disconnect_notice(self, frame: Frame) -> None:
        self.close("disconnect notice from the switch")


class InboundConnection:
    """Owns one connection to the switch at a time and replaces it when it drops."""

    def __init__(
        self,
        address: tuple[str, int],
        password: str,
        metrics: Metrics,
        on_connect: Callable[[InboundConnection], None] | None = None,
        dispatcher: Dispatcher | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        command_timeout: float = COMMAND_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
        first_backoff: float = 1.0,
        resync: tuple[tuple[str, str], ...] = RESYNC,
        event_format: str = EVENT_FORMAT,
        metrics_link: int = 0,
        owns_dispatcher: bool = True,
    ):
        """`metrics_link`: this socket's block in `metrics` (fsctl.esl.nodes gives each node one);
        `owns_dispatcher`: start and stop the dispatcher with the connection (False when several
        connections share one)."""
        self.address = address
        self.password = password
        self.metrics = metrics
        self.on_connect = on_connect
        self.dispatcher = dispatcher
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.max_backoff = max_backoff
        self.first_backoff = first_backoff
        self.resync_commands = resync
        self.event_format = event_format
        self.metrics_link = metrics_link
        self.owns_dispatcher = owns_dispatcher
        # The node's switchname (`api switchname`), asked on every connection; "" until known.
        self.node = ""
        self.link: _Link | None = None
        self.connections = 0
        self.synced = Flag()
        self._greenlet: gevent.Greenlet | None = None
        self._running = False

    # -- public --------------------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        if self.dispatcher is not None and self.owns_dispatcher:
            self.dispatcher.start()
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        self._running = False
        link = self.link
        if link is not None and link.connected:
            try:
                link.send("exit", timeout=1.0)
            except (NotConnected, CommandTimeout):
                pass
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
        self._close("stopped")
        if self.dispatcher is not None and self.owns_dispatcher:
            self.dispatcher.stop()

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.connected

    def api(self, command: str, timeout: float | None = None) -> Reply:
        """Send one command (`api ...`, `bgapi ...`) on the live connection, with a timeout."""
        link = self.link
        if link is None or not link.connected:
            raise NotConnected("event socket not connected")
        return link.send(command, timeout=timeout)

    def send_event(self, name: str, headers: dict[str, str], timeout: float | None = None) -> Reply:
        """Have the switch fire an event (`sendevent`) on the live connection, with a timeout."""
        link = self.link
        if link is None or not link.connected:
            raise NotConnected("event socket not connected")
        return link.send_raw(sendevent_bytes(name, headers), timeout=timeout)

    # -- internals -----------------------------------------------------------------------------
    def _close(self, reason: str) -> None:
        link, self.link = self.link, None
        self.synced.clear()
        self.metrics.set_esl_connected(False, self.metrics_link)
        if link is not None:
            link.close(reason)

    def _connect_once(self) -> _Link:
        sock = gevent.socket.create_connection(self.address, timeout=self.connect_timeout)
        sock.settimeout(None)
        link = _Link(sock, self)
        link.start()
        try:
            if not link.auth_requested.wait(self.connect_timeout) or not link.connected:
                raise NotConnected(f"no auth request from the switch ({link.close_reason or 'timeout'})")
            reply = link.send(f"auth {self.password}", timeout=self.command_timeout)
            if reply.reply_text != "+OK accepted":
                raise AuthError(f"the switch refused the event socket password ({reply.reply_text})")
            reply = link.send(
                subscription_command(self.dispatcher, self.event_format), timeout=self.command_timeout
            )
            if not reply.ok:
                raise NotConnected(f"subscription refused: {reply.reply_text}")
            self._learn_node(link)
            self.link = link
            self._resync(link)
        except BaseException:
            link.close("handshake failed")
            raise
        return link

    def _learn_node(self, link: _Link) -> None:
        """Ask the node its switchname (mod_commands `switchname`): the name its events carry in
        FreeSWITCH-Switchname, recorded with the resync's rows. A switch that does not answer keeps
        "" and its resync then replaces every node's rows (a single switch, as before nodes)."""
        reply = link.send("api switchname", timeout=self.command_timeout)
        name = reply.body.strip() if reply.ok else ""
        if not NODE_NAME.match(name):
            log.warning(
                "event socket %s:%s: no usable switchname (%r); its live state is not told apart",
                *self.address,
                reply.body.strip()[:80],
            )
            name = ""
        elif name != self.node and self.node:
            log.warning("event socket %s:%s: node %s now calls itself %s", *self.address, self.node, name)
        self.node = name
        self.metrics.set_esl_node(name, self.metrics_link)

    def _resync(self, link: _Link) -> None:
        """Read the switch's state back; each snapshot is queued at its place in the event stream."""
        for kind, command in self.resync_commands:

            def queue(reply: Reply, kind: str = kind) -> None:
                if self.dispatcher is not None and reply.ok:
                    self.dispatcher.submit(snapshot(kind, reply.body, self.node))

            reply = link.send(f"api {command}", timeout=self.command_timeout, on_reply=queue)
            if not reply.ok:
                log.info("resync: `%s` not available (%s)", command, reply.body.strip()[:80])
        self.synced.set()

    def _run(self) -> None:
        backoff = self.first_backoff
        failing_since_logged = False
        while self._running:
            try:
                link = self._connect_once()
            except (OSError, gevent.Timeout, ValueError, NotConnected, CommandTimeout) as exc:
                self._close("connect failed")
                if not failing_since_logged:
                    log.warning(
                        "FreeSWITCH event socket %s:%s not reachable (%s); retrying every %.0f-%.0f s",
                        self.address[0],
                        self.address[1],
                        exc or type(exc).__name__,
                        self.first_backoff,
                        self.max_backoff,
                    )
                    failing_since_logged = True
                else:
                    log.debug("event socket still unreachable: %s", exc)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self.connections += 1
            if self.connections > 1:
                self.metrics.esl_reconnected(self.metrics_link)
            self.metrics.set_esl_connected(True, self.metrics_link)
            log.info("connected to FreeSWITCH event socket %s:%s (node %s)", *self.address, self.node or "?")
            failing_since_logged = False
            backoff = self.first_backoff
            if self.on_connect is not None:
                try:
                    self.on_connect(self)
                except Exception:  # noqa: BLE001
                    log.exception("on_connect hook failed")
            self._watch(link)
            if self._running:
                log.warning("FreeSWITCH event socket connection lost (%s); reconnecting", link.close_reason)
            self._close("lost")

    def _watch(self, link: _Link) -> None:
        """Return when the link is gone; probe it when it has been silent too long."""
        while self._running and link.connected:
            link.closed.wait(IDLE_PROBE / 3)
            if link.connected and time.monotonic() - link.last_frame > IDLE_PROBE:
                try:
                    link.send("api status", timeout=self.command_timeout)
                except (NotConnected, CommandTimeout):
                    return
