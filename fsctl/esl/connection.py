"""One event socket connection over a gevent socket: a reader greenlet, commands with timeouts.

Replies (command/reply, api/response) come back in the order commands were sent, so each command
waits for its own reply in a FIFO. A command that gets no reply in time leaves the stream out of
step: the connection is closed rather than trusted (greenswitch 0.0.19 waits forever, defect 3).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import gevent
from gevent.event import AsyncResult
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from fsctl.esl.protocol import Frame, FrameReader, ProtocolError, command_bytes

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
READ_SIZE = 65536


class EslError(Exception):
    pass


class NotConnected(EslError, ConnectionError):
    """The socket is closed (or never opened)."""


class CommandTimeout(EslError, TimeoutError):
    """No reply in time; the connection was closed."""


class SessionGone(NotConnected):
    """The call of an outbound session is over (hangup or disconnect)."""


class Reply:
    """A command/reply or api/response."""

    __slots__ = ("headers", "body")

    def __init__(self, headers: dict[str, str], body: bytes = b""):
        self.headers = headers
        self.body = body.decode("utf-8", errors="replace") if body else ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        return self.headers.get("Reply-Text", "")

    @property
    def data(self) -> str:
        """What greenswitch called `data`: the api output, or the Reply-Text of a command."""
        return self.body if self.content_type == "api/response" else self.reply_text

    @property
    def ok(self) -> bool:
        if self.content_type == "api/response":
            return not self.body.startswith("-ERR")
        return self.reply_text.startswith("+OK")

    def __repr__(self) -> str:
        return f"Reply({self.content_type}, {self.data[:60]!r})"


class Connection:
    """Frames in, commands out. Subclasses handle events and disconnect notices."""

    def __init__(self, sock, *, command_timeout: float = DEFAULT_TIMEOUT, name: str = "esl"):
        self.sock = sock
        self.command_timeout = command_timeout
        self.name = name
        self.reader = FrameReader()
        self.auth_requested = Flag()
        self.closed = Flag()
        self._pending: deque[tuple[AsyncResult, Callable[[Reply], None] | None]] = deque()
        self._write_lock = Semaphore()
        self._reader_greenlet: gevent.Greenlet | None = None
        self.close_reason = ""

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._reader_greenlet = gevent.spawn(self._read_loop)

    @property
    def connected(self) -> bool:
        return not self.closed.is_set()

    def close(self, reason: str = "closed") -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        try:
            self.sock.close()
        except OSError:
            pass
        error = NotConnected(f"{self.name}: {reason}")
        while self._pending:
            result, _ = self._pending.popleft()
            result.set_exception(self._gone_error(error))
        self.auth_requested.set()  # wake a handshake waiting for the greeting
        self.on_close()
        reader = self._reader_greenlet
        if reader is not None and reader is not gevent.getcurrent():
            reader.kill(block=False)

    def _gone_error(self, error: NotConnected) -> Exception:
        return error

    def on_close(self) -> None:
        """Called once when the connection ends (subclasses: wake waiters, count, reconnect)."""

    # -- reading -------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        reason = "closed by peer"
        try:
            while True:
                data = self.sock.recv(READ_SIZE)
                if not data:
                    break
                for frame in self.reader.feed(data):
                    self._on_frame(frame)
                    if self.closed.is_set():
                        return
        except ProtocolError as exc:
            reason = f"protocol error: {exc}"
            log.warning("%s: %s; dropping the connection", self.name, reason)
        except OSError as exc:
            reason = f"socket error: {exc}"
        finally:
            self.close(reason)

    def _on_frame(self, frame: Frame) -> None:
        content_type = frame.content_type
        if content_type in ("command/reply", "api/response"):
            if not self._pending:
                log.debug("%s: a reply nobody waits for: %s", self.name, frame.headers.get("Reply-Text", ""))
                return
            result, hook = self._pending.popleft()
            reply = Reply(frame.headers, frame.body)
            if hook is not None:
                try:
                    hook(reply)
                except Exception:  # noqa: BLE001 - a hook's bug must not end the reader
                    log.exception("%s: reply hook failed", self.name)
            result.set(reply)
        elif content_type == "auth/request":
            self.auth_requested.set()
        elif content_type == "text/disconnect-notice":
            self.on_disconnect_notice(frame)
        elif content_type == "text/rude-rejection":
            self.close("rejected by the switch (acl)")
        elif content_type.startswith("text/event-"):
            self.on_event_frame(frame)
        # log/data and anything unknown: ignored

    def on_event_frame(self, frame: Frame) -> None:
        """An event frame (subclasses decode and dispatch it)."""

    def on_disconnect_notice(self, frame: Frame) -> None:
        self.close("disconnect notice")

    # -- writing -------------------------------------------------------------------------------
    def send_raw(
        self, data: bytes, *, timeout: float | None = None, on_reply: Callable[[Reply], None] | None = None
    ) -> Reply:
        """Write one message and wait for its reply; `on_reply` runs in the reader at that point."""
        if self.closed.is_set():
            raise self._gone_error(NotConnected(f"{self.name}: {self.close_reason or 'not connected'}"))
        timeout = self.command_timeout if timeout is None else timeout
        result: AsyncResult = AsyncResult()
        try:
            with self._write_lock, gevent.Timeout(timeout, CommandTimeout(f"{self.name}: write timed out")):
                self._pending.append((result, on_reply))
                self.sock.sendall(data)
        except CommandTimeout:
            self.close("write timed out")
            raise
        except OSError as exc:
            self.close(f"write failed: {exc}")
            raise NotConnected(f"{self.name}: write failed: {exc}") from exc
        try:
            return result.get(timeout=timeout)
        except gevent.Timeout:
            self.close("no reply in time")
            raise CommandTimeout(f"{self.name}: no reply within {timeout:g} s") from None

    def send(
        self, command: str, *, timeout: float | None = None, on_reply: Callable[[Reply], None] | None = None
    ) -> Reply:
        return self.send_raw(command_bytes(command), timeout=timeout, on_reply=on_reply)

    def api(self, command: str, *, timeout: float | None = None) -> Reply:
        return self.send(f"api {command}", timeout=timeout)
