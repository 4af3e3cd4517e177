"""A hung database: lookups answer "not found" within their deadline and count it,
/healthz says 503 within a second, the service never waits for the database's own recovery.

The database here is a PostgreSQL port that accepts connections and never answers: what a paused
(SIGSTOP) or network-partitioned server looks like to a client.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from test_directory import captured
from test_service import http, post, running_service, split_response

from fsctl.xml.document import NOT_FOUND

HEALTH = b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"
METRICS = b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"


@pytest.fixture
def silent_database():
    """A listening socket nobody accepts on: the kernel completes the handshake, nothing answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"postgresql+psycopg://kumo:kumo@127.0.0.1:{sock.getsockname()[1]}/kumo"
    sock.close()


def _timed(port: int, raw: bytes) -> tuple[float, tuple[int, dict[str, str], bytes]]:
    started = time.monotonic()
    answer = split_response(http(port, raw))
    return time.monotonic() - started, answer


def test_lookups_and_health_answer_in_time_when_the_database_hangs(silent_database):
    lookup = post("/fs/xml", captured("directory-sip_auth-register.txt"))
    with running_service(silent_database, workers=1, ready_status=503) as (port, _process):
        for _ in range(3):
            seconds, (status, _headers, body) = _timed(port, lookup)
            # Well under the switch's xml_curl timeout (kumo_xml_timeout, 2 s).
            assert status == 200 and body == NOT_FOUND
            assert seconds < 1.8, f"lookup took {seconds:.2f} s"
        seconds, (status, _headers, body) = _timed(port, HEALTH)
        assert status == 503 and json.loads(body)["database"] == "unreachable"
        assert seconds < 1.5, f"/healthz took {seconds:.2f} s"
        metrics = split_response(http(port, METRICS))[2].decode()
    assert 'kumo_xml_lookups_total{section="directory",outcome="timeout"} 3' in metrics
