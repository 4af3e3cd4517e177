"""A fake FreeSWITCH for the event socket tests, built from the captured bytes.

Everything it sends is a frame of tests/data/freeswitch/esl, byte for byte, except frames
built with `synthetic_*` below, which say so in a `X-Kumo-Synthetic: true` header.
"""

from __future__ import annotations

import gzip
import random

import gevent
import gevent.event
from gevent.lock import Semaphore
from gevent.server import StreamServer
from kumo_support import FIXTURES

ESL_DIR = FIXTURES / "esl"
SYNTHETIC = "X-Kumo-Synthetic: true\n"


def stream_bytes(name: str) -> bytes:
    """The raw bytes of one captured stream (.log or .log.gz)."""
    for candidate in (ESL_DIR / name, ESL_DIR / f"{name}.gz"):
        if candidate.exists():
            data = candidate.read_bytes()
            return gzip.decompress(data) if candidate.suffix == ".gz" else data
    raise FileNotFoundError(name)


def all_streams() -> list[str]:
    return sorted(p.name.removesuffix(".gz") for p in ESL_DIR.glob("inbound-*.log*"))


def raw_frames(data: bytes) -> list[bytes]:
    """Split a stream into its messages, each as the exact bytes that were on the wire."""
    frames, pos = [], 0
    while pos < len(data):
        while pos < len(data) and data[pos] == 0x0A:
            pos += 1
        end = data.find(b"\n\n", pos)
        if end < 0:
            break
        head = data[pos:end].decode()
        length = 0
        for line in head.split("\n"):
            if line.startswith("Content-Length: "):
                length = int(line.split(": ", 1)[1])
        stop = end + 2 + length
        frames.append(data[pos:stop])
        pos = stop
    return frames


def content_type(frame: bytes) -> str:
    for line in frame.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"Content-Type: "):
            return line.split(b": ", 1)[1].decode()
    return ""


def sent_commands(name: str) -> list[str]:
    text = (ESL_DIR / name.replace(".log", ".sent.txt")).read_text()
    return [c for c in text.split("\n\n") if c.strip()]


def synthetic_api_response(body: str) -> bytes:
    data = body.encode()
    return f"Content-Type: api/response\n{SYNTHETIC}Content-Length: {len(data)}\n\n".encode() + data


def synthetic_reply(text: str) -> bytes:
    return f"Content-Type: command/reply\n{SYNTHETIC}Reply-Text: {text}\n\n".encode()


def synthetic_plain_event(headers: dict[str, str], body: str = "") -> bytes:
    """An event in the switch's plain format (values URL-encoded), marked synthetic."""
    from urllib.parse import quote

    lines = "".join(f"{k}: {quote(v, safe='')}\n" for k, v in headers.items())
    inner = (lines + f"Content-Length: {len(body.encode())}\n\n" + body) if body else lines + "\n"
    data = inner.encode()
    return f"Content-Length: {len(data)}\nContent-Type: text/event-plain\n{SYNTHETIC}\n".encode() + data


class Recording:
    """One captured inbound connection: greeting, replies paired with what was sent, events."""

    def __init__(self, name: str):
        self.name = name
        self.frames = raw_frames(stream_bytes(name))
        self.greeting = self.frames[0]
        assert content_type(self.greeting) == "auth/request"
        replies = [f for f in self.frames if content_type(f) in ("command/reply", "api/response")]
        self.replies: dict[str, bytes] = {}
        for command, reply in zip(sent_commands(name), replies, strict=False):
            self.replies.setdefault(command, reply)
        self.events = [f for f in self.frames if content_type(f).startswith("text/event-")]
        self.notices = [f for f in self.frames if content_type(f) == "text/disconnect-notice"]


class FakeSwitch:
    """Serves inbound connections from a recording: real greeting, real replies, real events."""

    def __init__(
        self,
        recording: Recording | str,
        *,
        password: str = "ClueCon",
        chunk: int | None = None,
        extra: dict[str, bytes] | None = None,
        events: list[bytes] | None = None,
        drop_after: int | None = None,
        seed: int = 7,
    ):
        self.recording = recording if isinstance(recording, Recording) else Recording(recording)
        self.password = password
        self.chunk = chunk
        self.extra = extra or {}
        self.events = self.recording.events if events is None else events
        self.drop_after = drop_after  # bytes of the event stream after which the socket is cut
        self.random = random.Random(seed)
        self.received: list[str] = []
        self.connections = 0
        self.sockets: list = []
        self.server: StreamServer | None = None
        self.hold_events = gevent.event.Event()
        self.hold_events.set()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address[:2]

    def start(self) -> FakeSwitch:
        self.server = StreamServer(("127.0.0.1", 0), self._serve)
        self.server.start()
        return self

    def stop(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        if self.server is not None:
            self.server.stop(timeout=1)

    def kill_connections(self) -> None:
        for sock in self.sockets:
            try:
                sock.shutdown(2)
            except OSError:
                pass

    def _write(self, sock, lock: Semaphore, data: bytes) -> None:
        with lock:
            if not self.chunk:
                sock.sendall(data)
                return
            pos = 0
            while pos < len(data):
                size = self.random.randint(1, self.chunk)
                sock.sendall(data[pos : pos + size])
                pos += size
                gevent.sleep(0)

    def _reply_for(self, command: str) -> bytes:
        replies = self.recording.replies
        if command in replies:
            return replies[command]
        if command.startswith(("event plain", "events plain", "event json")):
            for recorded, reply in replies.items():
                if recorded.startswith("event "):
                    return reply
        if command in self.extra:
            return self.extra[command]
        if command.startswith("api "):
            return synthetic_api_response("-ERR no reply recorded\n")
        return synthetic_reply("+OK")

    def _serve(self, sock, _address) -> None:
        self.connections += 1
        self.sockets.append(sock)
        lock = Semaphore()
        streaming = None
        try:
            self._write(sock, lock, self.recording.greeting)
            buf = b""
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n\n" in buf:
                    command, buf = buf.split(b"\n\n", 1)
                    command = command.decode()
                    self.received.append(command)
                    if command.startswith("auth "):
                        if command != f"auth {self.password}":
                            bad = raw_frames(stream_bytes("inbound-bad-auth.log"))
                            for frame in bad[1:]:
                                self._write(sock, lock, frame)
                            return
                    self._write(sock, lock, self._reply_for(command))
                    if command.startswith(("event ", "events ")) and streaming is None:
                        streaming = gevent.spawn(self._stream_events, sock, lock, self.connections == 1)
                    if command == "exit":
                        for notice in self.recording.notices[:1]:
                            self._write(sock, lock, notice)
                        return
        except OSError:
            return
        finally:
            if streaming is not None:
                streaming.kill()
            try:
                sock.close()
            except OSError:
                pass

    def _stream_events(self, sock, lock: Semaphore, first: bool) -> None:
        sent = 0
        for frame in self.events:
            self.hold_events.wait()
            if first and self.drop_after is not None and sent + len(frame) > self.drop_after:
                cut = self.drop_after - sent
                with lock:
                    sock.sendall(frame[: max(cut, 1)])
                sock.shutdown(2)
                sock.close()
                return
            self._write(sock, lock, frame)
            sent += len(frame)


def transcript() -> list[tuple[str, bytes]]:
    """outbound-session.transcript.gz as (">>>" what the client sent | "<<<" what the switch sent, bytes)."""
    data = gzip.decompress((ESL_DIR / "outbound-session.transcript.gz").read_bytes())
    steps, pos = [], 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        marker = data[pos:end].decode()  # ">>> TX +0.000s 9 bytes"
        size = int(marker.split()[-2])
        start = end + 1
        steps.append((marker[:3], data[start : start + size]))
        pos = start + size
        while (
            pos < len(data)
            and data[pos : pos + 1] == b"\n"
            and data[pos + 1 : pos + 4] not in (b">>>", b"<<<")
        ):
            pos += 1
        if data[pos : pos + 1] == b"\n":
            pos += 1
    return steps


def recorded_event_uuids() -> list[str]:
    text = (ESL_DIR / "outbound-session.sent.txt").read_text()
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Event-UUID: ")]


class FakeOutboundSwitch:
    """Plays the switch's side of the captured outbound session against our server."""

    def __init__(self, address: tuple[str, int]):
        self.address = address
        self.steps = transcript()
        self.received: list[bytes] = []
        self.mismatch: str | None = None

    def run(self, timeout: float = 10.0) -> list[bytes]:
        sock = gevent.socket.create_connection(self.address)
        buf = b""
        try:
            with gevent.Timeout(timeout):
                for direction, data in self.steps:
                    if direction == "<<<":
                        sock.sendall(data)
                        continue
                    while b"\n\n" not in buf:
                        chunk = sock.recv(65536)
                        if not chunk:
                            self.mismatch = f"closed while waiting for {data!r}"
                            return self.received
                        buf += chunk
                    command, buf = buf.split(b"\n\n", 1)
                    command += b"\n\n"
                    self.received.append(command)
                    if command != data:
                        self.mismatch = f"expected {data!r}, got {command!r}"
                        return self.received
                # after the last notice the switch closes; the client must have closed too
                sock.shutdown(1)
                rest = sock.recv(65536)
                if rest:
                    self.mismatch = f"unexpected bytes after exit: {rest!r}"
        finally:
            sock.close()
        return self.received


def synthetic_json_event(headers: dict[str, str]) -> bytes:
    """An event in the switch's json format (as `event json` sends it), marked synthetic in the outer
    header block."""
    import json

    data = json.dumps(headers, ensure_ascii=False, separators=(",", ":")).encode()
    return f"Content-Length: {len(data)}\nContent-Type: text/event-json\n{SYNTHETIC}\n".encode() + data
