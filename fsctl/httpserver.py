"""A small HTTP/1.1 server on gevent for mod_xml_curl's lookups.

Why not gevent.pywsgi: mod_xml_curl opens a new TCP connection for every lookup and blocks a switch
thread until the answer; a bare pywsgi hello-world reached only 0.17 of nginx here. This server does
only what the switch and a health checker need: one request line, headers, a Content-Length body,
keep-alive when asked, and a response with Content-Length.

Hostile clients: a whole request (head and body, or the idle wait before it on a kept-alive
connection) must arrive within one deadline, however slowly its bytes trickle in; and each worker
keeps at most `max_connections` open: past that, the connection that has waited longest for its
request is closed, so a new caller (the switch sends its whole lookup at once) is always served and
the process never runs out of file descriptors.
"""

from __future__ import annotations

import logging
import resource
import socket
from collections.abc import Callable

import gevent
from gevent.server import StreamServer

from fsctl.xmlcurl.app import MAX_BODY, Response

log = logging.getLogger(__name__)

Handler = Callable[[str, str, dict[bytes, bytes], bytes], Response]

MAX_HEAD = 16 * 1024
# Per send/recv; a request as a whole has REQUEST_TIMEOUT (the switch sends a lookup in one go).
CLIENT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0
# Open connections per worker; capped further by the process's open-file limit (see _connection_cap).
MAX_CONNECTIONS = 1000
# Descriptors kept for the database, the log, the listener and the event socket.
RESERVED_FDS = 64
REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Payload Too Large",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    503: b"Service Unavailable",
}


def encode_response(response: Response, keep_alive: bool, head_only: bool = False) -> bytes:
    """Status line, headers and body as one buffer: one send, one TCP segment for small answers."""
    lines = [
        b"HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, b"Status")),
        b"Content-Type: " + response.content_type.encode(),
        b"Content-Length: %d" % len(response.body),
        b"Connection: keep-alive" if keep_alive else b"Connection: close",
    ]
    lines.extend(f"{name}: {value}".encode() for name, value in response.extra_headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head_only else response.body)


def _plain(status: int, text: bytes) -> Response:
    return Response(status, "text/plain", text)


class RequestTimeout(Exception):
    """The whole request did not arrive within the request deadline."""


class HttpConnection:
    """Serves the requests of one accepted connection."""

    def __init__(
        self,
        sock: socket.socket,
        handler: Handler,
        request_timeout: float = REQUEST_TIMEOUT,
        on_wait: Callable[[HttpConnection, bool], None] | None = None,
    ):
        self.sock = sock
        self.handler = handler
        self.buffer = b""
        self.request_timeout = request_timeout
        # Told True while this connection waits for (the rest of) a request, False while it is served.
        self.on_wait = on_wait or (lambda _connection, _waiting: None)
        # Whether the server still counts this connection as open (an evicted one is not).
        self.counted = False

    def _refuse(self, status: int, text: bytes) -> None:
        self.sock.sendall(encode_response(_plain(status, text), False))

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _send(self, data: bytes) -> None:
        # One send() usually takes a whole lookup answer; gevent's sendall costs an extra syscall each time.
        sent = self.sock.send(data)
        if sent < len(data):
            self.sock.sendall(data[sent:])

    def _read_request(self) -> tuple[list[bytes], dict[bytes, bytes], bytes] | None:
        """Request line parts, headers and body of the next request; None when it was refused or ended."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD:
                self._refuse(431, b"headers too large\n")
                return None
            if not self._fill():
                return None
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            # The whole block may arrive in one segment: check its size, not only the waiting buffer's.
            self._refuse(431, b"headers too large\n")
            return None
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            self._refuse(400, b"bad request line\n")
            return None
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            key = name.strip().lower()
            if key == b"content-length" and key in headers:
                # Two lengths: another parser in the path may pick the other one (request smuggling).
                self._refuse(400, b"duplicate Content-Length\n")
                return None
            headers[key] = value.strip()
        if b"transfer-encoding" in headers:
            # The switch always sends Content-Length; chunked uploads are not needed here.
            self._refuse(501, b"chunked bodies are not supported\n")
            return None
        raw_length = headers.get(b"content-length", b"0")
        length = int(raw_length) if raw_length.isdigit() else -1
        if length < 0 or length > MAX_BODY:
            self._refuse(413 if length > 0 else 400, b"bad body length\n")
            return None
        while len(self.buffer) < length:
            if not self._fill():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return parts, headers, body

    def serve(self) -> None:
        while True:
            self.on_wait(self, True)
            try:
                with gevent.Timeout(self.request_timeout, RequestTimeout):
                    request = self._read_request()
            except RequestTimeout:
                log.debug("HTTP request not complete within %.0f s; closing", self.request_timeout)
                return
            finally:
                self.on_wait(self, False)
            if request is None:
                return
            parts, headers, body = request
            method = parts[0].decode("latin-1")
            connection = headers.get(b"connection", b"").lower()
            keep_alive = connection != b"close" if parts[2] == b"HTTP/1.1" else connection == b"keep-alive"
            response = self.handler(method, parts[1].decode("latin-1"), headers, body)
            self._send(encode_response(response, keep_alive, head_only=method == "HEAD"))
            if not keep_alive:
                return


def _connection_cap(wanted: int) -> int:
    """At most `wanted`, and never more than the open-file limit leaves room for."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - RESERVED_FDS))


class LookupServer:
    """A gevent StreamServer running HttpConnection on every accepted socket."""

    def __init__(
        self,
        listener: socket.socket | tuple[str, int],
        handler: Handler,
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ):
        self.handler = handler
        self.request_timeout = request_timeout
        self.max_connections = _connection_cap(max_connections)
        self.open_connections = 0
        # Connections waiting for a request, oldest first (dicts keep insertion order).
        self._waiting: dict[HttpConnection, gevent.Greenlet] = {}
        self.server = StreamServer(listener, self._serve)
        # Accept one connection per loop turn: with several workers on one socket, a worker that
        # grabs a burst of 100 (gevent's default) makes those callers wait while another idles.
        self.server.max_accept = 1

    def _on_wait(self, connection: HttpConnection, waiting: bool) -> None:
        if waiting:
            self._waiting[connection] = gevent.getcurrent()
        else:
            self._waiting.pop(connection, None)

    def _make_room(self) -> None:
        """Close the connections that waited longest until this one fits under the cap."""
        while self.open_connections >= self.max_connections and self._waiting:
            oldest = next(iter(self._waiting))
            greenlet = self._waiting.pop(oldest)
            greenlet.kill(block=False)
            # The killed greenlet closes its socket when it next runs; count it as gone now.
            self.open_connections -= 1
            oldest.counted = False

    def _serve(self, sock: socket.socket, _address) -> None:
        self._make_room()
        self.open_connections += 1
        connection = HttpConnection(sock, self.handler, self.request_timeout, self._on_wait)
        connection.counted = True
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(CLIENT_TIMEOUT)
            connection.serve()
        except (TimeoutError, ConnectionError, OSError) as exc:
            log.debug("HTTP client connection ended: %s", exc)
        finally:
            self._waiting.pop(connection, None)
            if connection.counted:
                self.open_connections -= 1
            sock.close()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self) -> None:
        self.server.start()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self, timeout: float = 2.0) -> None:
        self.server.stop(timeout=timeout)


def bind_listener(address: tuple[str, int], backlog: int = 1024) -> socket.socket:
    """A listening socket created before the workers fork, so they all accept on it."""
    sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock
