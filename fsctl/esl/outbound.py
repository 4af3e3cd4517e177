"""The outbound event socket: FreeSWITCH connects to us (`socket 127.0.0.1:8084 async full`) per call.

- Accepting is done by gevent's event loop (StreamServer): a connection is served the moment it
  arrives. greenswitch 0.0.19 polls a non-blocking accept every 100 ms (defect 5, +53 ms median
  per call set-up measured).
- Each call gets one application object, run in that connection's own greenlet.
- A blocking `execute` waits for the CHANNEL_EXECUTE_COMPLETE whose Application-UUID is the
  Event-UUID we sent; that match happens in the session itself before any handler runs, so an
  application's own CHANNEL_EXECUTE_COMPLETE handler cannot make it hang (greenswitch 0.0.19 then
  never runs its matcher, defect 4). In `async full` mode commands do not wait for each other, so
  this wait is what keeps a `hangup` from cutting a `playback` short.
- With `linger`, the switch keeps the socket after hangup until we say `exit`: we always do, and close
  the socket on every path (a socket left open kept the channel, and later the switch's shutdown).
"""

from __future__ import annotations

import logging
import socket
import uuid as uuidlib
from collections.abc import Callable

import gevent
from gevent.event import AsyncResult
from gevent.event import Event as Flag
from gevent.server import StreamServer

from fsctl.esl.connection import CommandTimeout, Connection, EslError, NotConnected, Reply, SessionGone
from fsctl.esl.events import ChannelEvent, Event, make_event
from fsctl.esl.protocol import Frame, ProtocolError, decode_event, sendmsg_bytes

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 5.0


class OutboundSession(Connection):
    """One call handed to us by the switch."""

    def __init__(
        self,
        sock,
        address=None,
        *,
        command_timeout: float = COMMAND_TIMEOUT,
        uuid_factory: Callable[[], str] | None = None,
    ):
        super().__init__(sock, command_timeout=command_timeout, name="outbound session")
        self.address = address
        self.channel: dict[str, str] = {}
        self.uuid_factory = uuid_factory or (lambda: str(uuidlib.uuid4()))
        self.hung_up = Flag()
        self.lingering = False
        self._waiting: dict[str, AsyncResult] = {}
        self._handlers: dict[str, list[Callable[[Event], None]]] = {}

    # -- channel data --------------------------------------------------------------------------
    @property
    def uuid(self) -> str:
        c = self.channel
        return c.get("Unique-ID") or c.get("Channel-Unique-ID") or c.get("variable_uuid", "")

    @property
    def caller_id_number(self) -> str:
        return self.channel.get("Caller-Caller-ID-Number", "")

    def var(self, name: str, default: str = "") -> str:
        """A channel variable as it was when the call was handed to us."""
        return self.channel.get(f"variable_{name}", default)

    # -- events --------------------------------------------------------------------------------
    def on(self, key: str, handler: Callable[[Event], None]) -> None:
        """Run `handler` for events of this call with that Event-Name (or CUSTOM subclass)."""
        self._handlers.setdefault(key, []).append(handler)

    def on_event_frame(self, frame: Frame) -> None:
        try:
            decoded = decode_event(frame)
        except (ValueError, ProtocolError):
            return
        if decoded is None:
            return
        event = make_event(*decoded)
        # Our own bookkeeping first, whatever handlers the application registered.
        if event.name == "CHANNEL_EXECUTE_COMPLETE":
            waiter = self._waiting.pop(event.headers.get("Application-UUID", ""), None)
            if waiter is not None:
                waiter.set(event)
        elif event.name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            self.hung_up.set()
        for handler in (*self._handlers.get(event.key, ()), *self._handlers.get("*", ())):
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - an application's handler must not end the reader
                log.exception("outbound session %s: event handler failed", self.uuid)

    def on_disconnect_notice(self, frame: Frame) -> None:
        self.hung_up.set()
        self._fail_waiters()
        if frame.headers.get("Content-Disposition") == "linger":
            self.lingering = True  # the socket stays open until we send exit
            return
        self.close("disconnected by the switch")

    def _fail_waiters(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for result in waiting.values():
            result.set_exception(SessionGone("the call is over"))

    def _gone_error(self, error: NotConnected) -> Exception:
        return SessionGone(str(error))

    def on_close(self) -> None:
        self.hung_up.set()
        self._fail_waiters()

    # -- commands ------------------------------------------------------------------------------
    def connect(self) -> dict[str, str]:
        """`connect`: its reply carries the channel's data."""
        reply = self.send("connect")
        self.channel = {k: v for k, v in reply.headers.items() if k not in ("Content-Type", "Reply-Text")}
        return self.channel

    def myevents(self) -> Reply:
        return self.send("myevents")

    def linger(self, seconds: int | None = None) -> Reply:
        return self.send("linger" if seconds is None else f"linger {int(seconds)}")

    def execute(
        self, app: str, arg: str | None = None, *, block: bool = True, timeout: float | None = None
    ) -> ChannelEvent | Reply:
        """Run a dialplan application on the call; with `block`, wait until it has finished."""
        if self.lingering or self.hung_up.is_set() and block:
            raise SessionGone("the call is over")
        event_uuid = self.uuid_factory()
        waiter = AsyncResult()
        if block:
            self._waiting[event_uuid] = waiter
        try:
            reply = self.send_raw(sendmsg_bytes(app, arg, event_uuid=event_uuid))
            if not reply.ok:
                raise EslError(f"{app}: {reply.reply_text}")
            if not block:
                return reply
            try:
                return waiter.get(timeout=timeout)
            except gevent.Timeout:
                raise CommandTimeout(f"{app} did not complete within {timeout} s") from None
        finally:
            self._waiting.pop(event_uuid, None)

    # conveniences in greenswitch's spirit
    def answer(self) -> ChannelEvent | Reply:
        return self.execute("answer")

    def playback(self, path: str, *, block: bool = True) -> ChannelEvent | Reply:
        return self.execute("playback", path, block=block)

    def hangup(self, cause: str = "NORMAL_CLEARING") -> ChannelEvent | Reply:
        return self.execute("hangup", cause, block=False)

    def getvar(self, name: str) -> str:
        return self.api(f"uuid_getvar {self.uuid} {name}").body

    def wait_hangup(self, timeout: float | None = None) -> bool:
        return self.hung_up.wait(timeout)

    def finish(self) -> None:
        """Say `exit` (the switch then closes its side) and close ours, whatever state we are in."""
        if self.connected:
            try:
                self.send("exit", timeout=2.0)
                self.closed.wait(1.0)
            except (NotConnected, CommandTimeout):
                pass
        self.close("finished")


class Application:
    """One object per call; `run` drives the call in the connection's own greenlet."""

    def __init__(self, session: OutboundSession):
        self.session = session

    def run(self) -> None:
        """Default: hand the call straight back to the dialplan (it continues after `socket`)."""


class OutboundServer:
    """Listens for the switch's `socket` connections; one greenlet and one application per call."""

    def __init__(
        self,
        address: tuple[str, int],
        application: Callable[[OutboundSession], Application],
        *,
        command_timeout: float = COMMAND_TIMEOUT,
        max_calls: int = 2000,
        uuid_factory: Callable[[], str] | None = None,
    ):
        self.listen_address = address
        self.application = application
        self.command_timeout = command_timeout
        self.max_calls = max_calls
        self.uuid_factory = uuid_factory
        self.active = 0
        self.served = 0
        self._server: StreamServer | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        return self._server.address[:2]

    def start(self) -> None:
        self._server = StreamServer(self.listen_address, self._serve, backlog=256)
        self._server.start()
        log.info("outbound socket server (the `socket` application) listening on %s:%d", *self.address)

    def stop(self, timeout: float = 2.0) -> None:
        if self._server is not None:
            self._server.stop(timeout=timeout)
            self._server = None

    def _serve(self, sock, address) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        session = OutboundSession(
            sock, address, command_timeout=self.command_timeout, uuid_factory=self.uuid_factory
        )
        session.start()
        self.active += 1
        self.served += 1
        try:
            session.connect()
            if self.active > self.max_calls:
                log.warning("outbound socket: %d calls at once, over the limit; call sent back", self.active)
                return
            self.application(session).run()
        except SessionGone:
            log.debug("outbound session %s: call ended", session.uuid)
        except (NotConnected, CommandTimeout) as exc:
            log.info("outbound session %s ended: %s", session.uuid or address, exc)
        except Exception:  # noqa: BLE001 - one call's failure is logged, the server goes on
            log.exception("outbound application failed for call %s", session.uuid)
        finally:
            self.active -= 1
            session.finish()
