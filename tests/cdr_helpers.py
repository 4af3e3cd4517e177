"""Helpers for the CDR and billing tests: the lab tenant, captured CDR posts, a local HTTP server."""

from __future__ import annotations

import socket
from typing import Any

from kumo_support import read_fixture, tenant_doc

CDR_FILES = ("json-bridge-a-leg.http", "json-bridge-b-leg.http", "json-tone.http", "xml-bridge-a-leg.http")
A_LEG = "5e20f393-a03f-417d-bc72-efd802e9759b"
B_LEG = "9864977a-3964-4ca3-a718-12e8614befd6"
TONE = "9e06dff8-83cc-47f9-9b3e-d3d96f22f813"
LAB_AUTH = "freeswitch:cdrsecret"  # what the lab switch sent (Authorization: Basic ...)


def lab_tenant(**overrides: Any) -> dict[str, Any]:
    """The lab's tenant acme.example with users 1001/1002, so the captured CDRs are used unchanged."""
    doc = tenant_doc(
        domain="acme.example",
        users=[
            {"extension": "1001", "name": "Alice", "password": "Str0ng-1001-pass", "caller_id": "0312345678"},
            {"extension": "1002", "name": "Bob", "password": "Str0ng-1002-pass"},
        ],
        numbers=[{"number": "0312345678", "destination": {"user": "1001"}}],
        ring_groups=[],
    )
    doc.update(overrides)
    return doc


def captured_request(name: str) -> bytes:
    """A captured CDR request; only the request line's path is ours (the lab posted to /cdr/json|xml)."""
    raw = read_fixture(f"cdr/{name}")
    line, rest = raw.split(b"\r\n", 1)
    method, target, version = line.split(b" ")
    target = b"/fs/cdr?" + target.split(b"?", 1)[1]
    return b" ".join((method, target, version)) + b"\r\n" + rest


def captured_body(name: str) -> bytes:
    return read_fixture(f"cdr/{name}").partition(b"\r\n\r\n")[2]


def send_raw(port: int, raw: bytes) -> tuple[int, bytes]:
    """One request on its own connection; returns (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(body) < length:
            body += sock.recv(65536)
    return int(head.split(b" ")[1]), body


def synthetic_leg(
    uuid: str,
    destination: str,
    *,
    billsec: int = 0,
    start: str = "2026-11-25 12:57:03",
    context: str = "acme.example",
    caller: str = "1001",
    b_leg_of: str | None = None,
    variables: dict[str, str] | None = None,
) -> bytes:
    """SYNTHETIC: the captured A-leg JSON (or B-leg JSON when `b_leg_of`) with the call's facts replaced."""
    import datetime as dt
    import json

    name = "json-bridge-b-leg.http" if b_leg_of else "json-bridge-a-leg.http"
    doc = json.loads(captured_body(name))
    started = dt.datetime.strptime(start, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    start_us = int(started.timestamp()) * 1_000_000
    v = doc["variables"]
    v.update(
        uuid=uuid,
        call_uuid=uuid,
        start_uepoch=str(start_us),
        answer_uepoch=str(start_us + 1_000_000) if billsec else "0",
        end_uepoch=str(start_us + (billsec + 1) * 1_000_000),
        billsec=str(billsec),
        duration=str(billsec + 1),
        user_name=caller,
    )
    v.update(variables or {})
    profile = doc["callflow"][0]["caller_profile"]
    profile.update(destination_number=destination, context=context, uuid=uuid, caller_id_number=caller)
    if b_leg_of:
        for origin in profile["originator"]["originator_caller_profiles"]:
            origin.update(
                uuid=b_leg_of, context=context, destination_number=destination, caller_id_number=caller
            )
    return json.dumps(doc).encode()
