"""`fsctl serve` as FreeSWITCH meets it: real processes, raw captured HTTP requests, two instances."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kumo_support import REPO_ROOT, read_fixture, tenant_doc
from lxml import etree
from test_directory import captured

from fsctl import db
from fsctl.wiring import tenant_file


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(port: int, raw: bytes, chunks: int = 1, delay: float = 0.0) -> bytes:
    """Send raw request bytes (optionally in pieces) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        step = max(1, len(raw) // chunks)
        for start in range(0, len(raw), step):
            sock.sendall(raw[start : start + step])
            if delay:
                time.sleep(delay)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def post(path: str, body: bytes, headers: dict[str, str] | None = None, close: bool = True) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Length: {len(body)}",
        "Content-Type: application/x-www-form-urlencoded",
    ]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@contextmanager
def running_service(
    database_url: str,
    workers: int = 1,
    auth: str | None = "off",
    preexec_fn=None,
    env_extra: dict[str, str] | None = None,
    ready_status: int = 200,
    port: int | None = None,
) -> Iterator[tuple[int, subprocess.Popen]]:
    """`fsctl serve` in a subprocess; `auth` None = the secure default (credentials generated into a
    temporary instance folder unless env_extra names one), "off" = open."""
    port = port or free_port()
    instance = tempfile.TemporaryDirectory()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FSCTL_ESL_ADDRESS": f"127.0.0.1:{free_port()}",
        "FSCTL_INSTANCE_DIR": instance.name,
    }
    for name in ("FSCTL_XML_CURL_AUTH", "FSCTL_ESL_PASSWORD"):
        env.pop(name, None)
    if auth:
        env["FSCTL_XML_CURL_AUTH"] = auth
    env.update(env_extra or {})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fsctl.cli",
            "serve",
            "--http-listen",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=preexec_fn,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if (
                    split_response(http(port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"))[0]
                    == ready_status
                ):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(
                    "service did not start: " + process.stdout.read().decode(errors="replace")
                )
            time.sleep(0.1)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        instance.cleanup()


def a1_of(document: bytes) -> str:
    return etree.fromstring(document).find(".//user/params/param[@name='a1-hash']").get("value")


def test_replays_the_captured_http_request_byte_for_byte(database_url, make_tenant):
    make_tenant(
        domain="acme.example",
        users=[
            {"extension": "1001", "name": "Alice", "password": "secret-but-long"},
        ],
        numbers=[],
        ring_groups=[],
        park=None,
    )
    # The exact bytes the lab switch sent (gateway-credentials=freeswitch:xmlsecret), on our path.
    raw = read_fixture("xml_curl/http-request-directory.http").replace(b"POST /fsapi ", b"POST /fs/xml ")
    with running_service(database_url, workers=2, auth="freeswitch:xmlsecret") as (port, _process):
        status, headers, body = split_response(http(port, raw.replace(b"Accept: */*", b"Connection: close")))
        assert status == 200 and headers["content-type"].startswith("text/xml")
        assert a1_of(body) == hashlib.md5(b"1001:acme.example:secret-but-long").hexdigest()
        # The same request read in 7-byte pieces, as a slow or segmented sender would deliver it.
        pieces = split_response(http(port, raw.replace(b"Accept: */*", b"Connection: close"), chunks=200))
        assert pieces[2] == body
        wrong = raw.replace(b"ZnJlZXN3aXRjaDp4bWxzZWNyZXQ=", b"ZnJlZXN3aXRjaDp3cm9uZw==")
        assert split_response(http(port, wrong.replace(b"Accept: */*", b"Connection: close")))[0] == 401


def test_two_requests_on_one_keep_alive_connection(database_url, make_tenant):
    make_tenant()
    body = captured("directory-sip_auth-register.txt")
    with running_service(database_url) as (port, _process):
        raw = post("/fs/xml", body, close=False) + post("/fs/xml", body)
        data = http(port, raw)
        assert data.count(b"HTTP/1.1 200 OK") == 2
        assert data.count(b'<user id="101"') == 2


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"POST /fs/xml HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"POST /fs/xml HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST /fs/xml HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
        (b"GET /fs/xml HTTP/1.1\r\nConnection: close\r\n\r\n", 405),
        (b"GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
    ],
)
def test_broken_http_gets_a_clear_4xx(database_url, engine, raw, status):
    with running_service(database_url) as (port, _process):
        assert split_response(http(port, raw))[0] == status
        # and the service is still there
        assert split_response(http(port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"))[0] == 200


def test_a_change_committed_elsewhere_is_seen_by_every_serving_process(
    database_url, session_factory, make_tenant
):
    make_tenant()
    body = post("/fs/xml", captured("directory-sip_auth-register.txt"))
    with running_service(database_url) as (port_a, _a), running_service(database_url) as (port_b, _b):
        before = {a1_of(split_response(http(port, body))[2]) for port in (port_a, port_b)}
        assert before == {hashlib.md5(b"101:acme.kumo.test:Str0ng-101-pass").hexdigest()}
        doc = tenant_doc()
        doc["users"][0]["password"] = "Rotated-Pass-99"
        with db.session_scope(session_factory) as session:
            tenant_file().apply(session, doc)
        after = {a1_of(split_response(http(port, body))[2]) for port in (port_a, port_b)}
        assert after == {hashlib.md5(b"101:acme.kumo.test:Rotated-Pass-99").hexdigest()}


def test_health_metrics_and_a_calm_log_without_freeswitch(database_url, make_tenant):
    make_tenant()
    with running_service(database_url, workers=2) as (port, process):
        for _ in range(4):
            http(port, post("/fs/xml", captured("directory-sip_auth-register.txt")))
        http(port, post("/fs/xml", captured("directory-unknown-user-id.txt")))
        status, headers, body = split_response(
            http(port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        )
        health = json.loads(body)
        assert status == 200 and health["database"] == "ok" and health["esl"] == "disconnected"
        metrics = split_response(http(port, b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"))[
            2
        ].decode()
        assert 'kumo_xml_lookups_total{section="directory",outcome="found"} 4' in metrics
        assert 'kumo_xml_lookups_total{section="directory",outcome="not_found"} 1' in metrics
        assert "kumo_xml_lookup_seconds_count 5" in metrics
        assert "kumo_esl_connected 0" in metrics
        time.sleep(2.5)
        process.terminate()
        log = process.communicate(timeout=10)[0].decode()
    # FreeSWITCH is not running: the service says so once, not at every retry, and never crashes.
    assert log.count("event socket") == 1, log
    assert "Traceback" not in log


def carrier_call(did: str) -> bytes:
    """The captured dialplan body of a real call, turned into a carrier call to `did` in context public."""
    body = read_fixture("xml_curl/dialplan-bridge-1002.txt")
    for field in (b"Hunt-Context", b"Caller-Context"):
        body = body.replace(field + b"=default", field + b"=public")
    for field in (b"Hunt-Destination-Number", b"Caller-Destination-Number"):
        body = body.replace(field + b"=1002", field + b"=" + did.encode())
    return body


def bridge_of(document: bytes) -> str:
    actions = etree.fromstring(document).findall(".//action[@application='bridge']")
    assert len(actions) == 1, document
    return re.sub(r",pickup/[^,|]+", "", actions[0].get("data"))  # without the pickup group leg


def test_a_routing_change_is_seen_by_every_serving_process(database_url, session_factory, make_tenant):
    make_tenant()
    body = post("/fs/xml", carrier_call("0312345678"))
    with running_service(database_url) as (port_a, _a), running_service(database_url) as (port_b, _b):
        before = {bridge_of(split_response(http(port, body))[2]) for port in (port_a, port_b)}
        assert before == {"user/101@acme.kumo.test,user/102@acme.kumo.test"}
        doc = tenant_doc()
        doc["ring_groups"] = [{"name": "reception", "members": ["102"]}]
        with db.session_scope(session_factory) as session:
            tenant_file().apply(session, doc)
        after = {bridge_of(split_response(http(port, body))[2]) for port in (port_a, port_b)}
        assert after == {"user/102@acme.kumo.test"}


def test_each_worker_warms_the_dialplan_snapshots_and_says_so(database_url, make_tenant):
    """Workers load every tenant's snapshot in the background when they start (DialplanResponder.warm)
    and /healthz tells when: a load balancer or a benchmark can wait for the steady state."""
    import json
    import time

    make_tenant()
    with running_service(database_url) as (port, _process):
        states = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, _headers, body = split_response(
                http(port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
            )
            states.append(json.loads(body)["snapshots"])
            if states[-6:] == ["warm"] * 6:
                break
            time.sleep(0.05)
    assert states[-6:] == ["warm"] * 6, states[-10:]
    assert set(states) <= {"warming", "warm"}
