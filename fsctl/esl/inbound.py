"""The inbound event-socket connection: connect, authenticate, subscribe, and keep reconnecting.

FreeSWITCH may be down or restarting at any time; the service then retries with back-off and says so
once per state change rather than once per attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent
import greenswitch

from fsctl.metrics import Metrics

log = logging.getLogger(__name__)

SUBSCRIPTION = "events plain HEARTBEAT CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE CUSTOM"
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0
MAX_BACKOFF = 30.0


class InboundConnection:
    """Owns one greenswitch InboundESL at a time and replaces it when it drops."""

    def __init__(
        self,
        address: tuple[str, int],
        password: str,
        metrics: Metrics,
        on_connect: Callable[[greenswitch.InboundESL], None] | None = None,
    ):
        self.address = address
        self.password = password
        self.metrics = metrics
        self.on_connect = on_connect
        self.esl: greenswitch.InboundESL | None = None
        self._greenlet: gevent.Greenlet | None = None
        self._running = False
        self._connections = 0

    def start(self) -> None:
        self._running = True
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        self._running = False
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
        self._close()

    def api(self, command: str) -> object:
        """Send one command on the live connection, with a timeout; raises when not connected."""
        esl = self.esl
        if esl is None or not esl.connected:
            raise ConnectionError("event socket not connected")
        with gevent.Timeout(COMMAND_TIMEOUT):
            return esl.send(command)

    def _close(self) -> None:
        esl, self.esl = self.esl, None
        self.metrics.set_esl_connected(False)
        if esl is not None:
            try:
                with gevent.Timeout(COMMAND_TIMEOUT):
                    esl.stop()
            except (gevent.Timeout, OSError, greenswitch.esl.NotConnectedError):
                log.debug("closing the event socket did not finish cleanly")

    def _connect_once(self) -> None:
        esl = greenswitch.InboundESL(
            host=self.address[0], port=self.address[1], password=self.password, timeout=CONNECT_TIMEOUT
        )
        # greenswitch's connect waits for auth/request without a timeout; bound the whole handshake.
        with gevent.Timeout(CONNECT_TIMEOUT + COMMAND_TIMEOUT):
            esl.connect()
            esl.register_handle("*", lambda _event: self.metrics.esl_event())
            esl.send(SUBSCRIPTION)
        self.esl = esl

    def _run(self) -> None:
        backoff = 1.0
        failing_since_logged = False
        while self._running:
            try:
                self._connect_once()
            except (OSError, gevent.Timeout, ValueError, greenswitch.esl.NotConnectedError) as exc:
                self._close()
                if not failing_since_logged:
                    log.warning(
                        "FreeSWITCH event socket %s:%s not reachable (%s); retrying every %.0f-%.0f s",
                        self.address[0],
                        self.address[1],
                        exc or type(exc).__name__,
                        1.0,
                        MAX_BACKOFF,
                    )
                    failing_since_logged = True
                else:
                    log.debug("event socket still unreachable: %s", exc)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._connections += 1
            if self._connections > 1:
                self.metrics.esl_reconnected()
            self.metrics.set_esl_connected(True)
            log.info("connected to FreeSWITCH event socket %s:%s", *self.address)
            failing_since_logged = False
            backoff = 1.0
            if self.on_connect is not None:
                self.on_connect(self.esl)
            while self._running and self.esl is not None and self.esl.connected:
                gevent.sleep(1.0)
            if self._running:
                log.warning("FreeSWITCH event socket connection lost; reconnecting")
            self._close()
