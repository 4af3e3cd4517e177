"""A small HTTP/1.1 server on gevent for mod_xml_curl's lookups.

Why not gevent.pywsgi: mod_xml_curl opens a new TCP connection for every lookup and blocks a switch
thread until the answer; a bare pywsgi hello-world reached only 0.17 of nginx here. This server does
only what the switch and a health checker need: one request line, headers, a Content-Length body,
keep-alive when asked, and a response with Content-Length.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from gevent.server import StreamServer

from fsctl.xmlcurl.app import MAX_BODY, Response

log = logging.getLogger(__name__)

Handler = Callable[[str, str, dict[bytes, bytes], bytes], Response]

MAX_HEAD = 16 * 1024
CLIENT_TIMEOUT = 10.0
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


class HttpConnection:
    """Serves the requests of one accepted connection."""

    def __init__(self, sock: socket.socket, handler: Handler):
        self.sock = sock
        self.handler = handler
        self.buffer = b""

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

    def serve(self) -> None:
        while True:
            while b"\r\n\r\n" not in self.buffer:
                if len(self.buffer) > MAX_HEAD:
                    self.sock.sendall(encode_response(_plain(431, b"headers too large\n"), False))
                    return
                if not self._fill():
                    return
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
                self.sock.sendall(encode_response(_plain(400, b"bad request line\n"), False))
                return
            headers: dict[bytes, bytes] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if b"transfer-encoding" in headers:
                # The switch always sends Content-Length; chunked uploads are not needed here.
                self.sock.sendall(encode_response(_plain(501, b"chunked bodies are not supported\n"), False))
                return
            try:
                length = int(headers.get(b"content-length", b"0"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self.sock.sendall(
                    encode_response(_plain(413 if length > 0 else 400, b"bad body length\n"), False)
                )
                return
            while len(self.buffer) < length:
                if not self._fill():
                    return
            body, self.buffer = self.buffer[:length], self.buffer[length:]
            method = parts[0].decode("latin-1")
            connection = headers.get(b"connection", b"").lower()
            keep_alive = connection != b"close" if parts[2] == b"HTTP/1.1" else connection == b"keep-alive"
            response = self.handler(method, parts[1].decode("latin-1"), headers, body)
            self._send(encode_response(response, keep_alive, head_only=method == "HEAD"))
            if not keep_alive:
                return


class LookupServer:
    """A gevent StreamServer running HttpConnection on every accepted socket."""

    def __init__(self, listener: socket.socket | tuple[str, int], handler: Handler):
        self.handler = handler
        self.server = StreamServer(listener, self._serve)
        # Accept one connection per loop turn: with several workers on one socket, a worker that
        # grabs a burst of 100 (gevent's default) makes those callers wait while another idles.
        self.server.max_accept = 1

    def _serve(self, sock: socket.socket, _address) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(CLIENT_TIMEOUT)
        try:
            HttpConnection(sock, self.handler).serve()
        except (TimeoutError, ConnectionError, OSError) as exc:
            log.debug("HTTP client connection ended: %s", exc)
        finally:
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
