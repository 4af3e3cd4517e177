"""A small event-socket client for the end-to-end tests: api commands and an event log to await.

Written for the tests on purpose (not fsctl.esl): the tests judge kumo's ESL code from the outside,
so they must not share its parser. Protocol: mod_event_socket.c; frames are MIME-like header blocks,
a `Content-Length` body follows; `text/event-plain` bodies are URL-encoded `Name: value` lines.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import unquote

Event = dict[str, str]


class EslError(RuntimeError):
    pass


class _Conn:
    def __init__(self, host: str, port: int, password: str, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        headers, _ = self.read_frame()
        if headers.get("Content-Type") != "auth/request":
            raise EslError(f"unexpected greeting {headers}")
        reply = self.command(f"auth {password}")
        if not reply.get("Reply-Text", "").startswith("+OK"):
            raise EslError(f"ESL auth refused: {reply}")

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EslError("event socket closed")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EslError("event socket closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_frame(self) -> tuple[dict[str, str], bytes]:
        head = self._read_until(b"\n\n").decode("utf-8", "replace")
        headers = _parse_headers(head, decode=False)
        body = b""
        if "Content-Length" in headers:
            body = self._read_exact(int(headers["Content-Length"]))
        return headers, body

    def command(self, line: str) -> dict[str, str]:
        self.sock.sendall(line.encode() + b"\n\n")
        while True:
            headers, _ = self.read_frame()
            if headers.get("Content-Type") == "command/reply":
                return headers

    def api(self, line: str) -> str:
        self.sock.sendall(f"api {line}\n\n".encode())
        while True:
            headers, body = self.read_frame()
            if headers.get("Content-Type") == "api/response":
                return body.decode("utf-8", "replace")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _parse_headers(text: str, decode: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(": ")
        if sep:
            out[name] = unquote(value) if decode else value
    return out


def api(host: str, port: int, password: str, command: str, timeout: float = 20.0) -> str:
    """Run one api command on a fresh connection and return its text."""
    conn = _Conn(host, port, password, timeout)
    try:
        return conn.api(command)
    finally:
        conn.close()


class EventLog:
    """Every event of the switch since connect, kept in order; tests await the ones they need."""

    def __init__(self, host: str, port: int, password: str) -> None:
        self.address = (host, port, password)
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self._conn = _Conn(host, port, password)
        self._conn.sock.settimeout(None)
        reply = self._conn.command("event plain ALL")
        if not reply.get("Reply-Text", "").startswith("+OK"):
            raise EslError(f"event subscription refused: {reply}")
        self.closed = False
        self._thread = threading.Thread(target=self._run, name="e2e-esl-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                headers, body = self._conn.read_frame()
                if headers.get("Content-Type") != "text/event-plain":
                    continue
                text = body.decode("utf-8", "replace")
                head, _, inner = text.partition("\n\n")
                event = _parse_headers(head, decode=True)
                if inner:
                    event["_body"] = inner
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()
        except (EslError, OSError):
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def mark(self) -> int:
        """A position in the log: wait_for(..., since=mark) only looks at later events."""
        with self._cond:
            return len(self.events)

    def wait_for(
        self, predicate: Callable[[Event], bool], timeout: float = 10.0, since: int = 0, what: str = ""
    ) -> Event:
        """The first event at or after `since` that matches; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        index = since
        with self._cond:
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"no event {what or predicate} within {timeout} s")
                self._cond.wait(min(left, 0.5))

    def matching(self, predicate: Callable[[Event], bool], since: int = 0) -> list[Event]:
        with self._cond:
            return [e for e in self.events[since:] if predicate(e)]

    def summary(self, since: int = 0, limit: int = 200) -> str:
        """One line per event (name, subclass, channel, cause): printed when a scenario fails."""
        lines = []
        with self._cond:
            chosen = self.events[since:][-limit:]
        for e in chosen:
            name = e.get("Event-Name", "?")
            if name in ("HEARTBEAT", "RE_SCHEDULE", "API", "MESSAGE_QUERY"):
                continue
            sub = e.get("Event-Subclass", "")
            bits = [name + (f"/{sub}" if sub else "")]
            for key in (
                "Channel-Name",
                "Unique-ID",
                "Caller-Destination-Number",
                "Hangup-Cause",
                "Application",
            ):
                if e.get(key):
                    bits.append(f"{key}={e[key]}")
            lines.append(" ".join(bits))
        return "\n".join(lines)

    def close(self) -> None:
        self._conn.close()


def event_is(name: str, subclass: str | None = None, **headers: str) -> Callable[[Event], bool]:
    """A predicate: event name (and subclass), and each header equal to the given value.

    Header names are given with `_` for `-` (Caller_Destination_Number); a `variable_...` name is
    kept as written, since channel variable names contain underscores themselves."""
    wanted = {(k if k.startswith("variable_") else k.replace("_", "-")): v for k, v in headers.items()}

    def check(event: Event) -> bool:
        if event.get("Event-Name") != name:
            return False
        if subclass is not None and event.get("Event-Subclass") != subclass:
            return False
        return all(event.get(k) == v for k, v in wanted.items())

    return check
