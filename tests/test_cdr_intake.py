"""CDR intake: captured mod_json_cdr / mod_xml_cdr posts replayed through the service's HTTP server."""

from __future__ import annotations

import base64
import json

import pytest
from cdr_helpers import (
    A_LEG,
    B_LEG,
    CDR_FILES,
    LAB_AUTH,
    TONE,
    captured_body,
    captured_request,
    lab_tenant,
    send_raw,
)
from sqlalchemy import func, select, text

from fsctl import db, models
from fsctl.cdr.spool import import_spool
from fsctl.cdr.store import CdrStore
from fsctl.httpserver import LookupServer
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore


@pytest.fixture
def lab(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, lab_tenant())


@pytest.fixture
def server(settings, engine, lab):
    """The service's own HTTP server on a free loopback port, with the lab's CDR credentials."""
    store = LookupStore(engine=engine)
    app = ServiceApp(settings.with_overrides(xml_curl_auth=LAB_AUTH), store)
    srv = LookupServer(("127.0.0.1", 0), app.handle)
    srv.start()
    yield srv.address[1]
    srv.stop()
    store.reset()


def rows(session_factory) -> dict[str, models.CallRecord]:
    with session_factory() as session:
        return {r.uuid: r for r in session.scalars(select(models.CallRecord))}


def rejects(session_factory) -> list[models.CdrReject]:
    with session_factory() as session:
        return list(session.scalars(select(models.CdrReject)))


def test_captured_posts_are_stored_once_per_leg(server, session_factory):
    for name in CDR_FILES:
        assert send_raw(server, captured_request(name)) == (200, b"OK\n")
    stored = rows(session_factory)
    # The XML post is the A leg again (uuid a_<uuid>): one row per leg.
    assert sorted(stored) == sorted([A_LEG, B_LEG, TONE])
    a, b, tone = stored[A_LEG], stored[B_LEG], stored[TONE]
    assert (a.leg, a.call_class, a.direction, a.extension, a.destination, a.billsec, a.duration) == (
        "a",
        "internal",
        "internal",
        "1001",
        "1002",
        5,
        6,
    )
    assert a.hangup_cause == "NORMAL_CLEARING"
    assert a.started_at.replace(tzinfo=None).isoformat() == "2026-11-25T12:57:03.649305"
    assert (b.leg, b.call_class, b.direction, b.extension, b.caller) == ("b", "leg", "in", "1002", "1001")
    assert a.tenant_id == b.tenant_id == tone.tenant_id is not None
    assert a.user_id is not None and b.user_id is not None and a.user_id != b.user_id
    # 5000 is no number of kumo's plan (it was the lab's tone test).
    assert (tone.call_class, tone.billsec) == ("unknown", 2)
    assert rejects(session_factory) == []


def test_repost_and_xml_form_are_idempotent(server, session_factory):
    for _ in range(3):
        assert send_raw(server, captured_request("json-bridge-a-leg.http"))[0] == 200
    assert send_raw(server, captured_request("xml-bridge-a-leg.http"))[0] == 200
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(models.CallRecord)) == 1


def test_wrong_credentials_are_refused_and_nothing_is_stored(server, session_factory):
    raw = captured_request("json-tone.http")
    wrong = base64.b64encode(b"freeswitch:wrong")
    raw = raw.replace(base64.b64encode(LAB_AUTH.encode()), wrong)
    status, _ = send_raw(server, raw)
    assert status == 401
    assert rows(session_factory) == {}


def _post(port: int, body: bytes, uuid: str = "0f0f0f0f-1111-2222-3333-444455556666") -> tuple[int, bytes]:
    auth = base64.b64encode(LAB_AUTH.encode()).decode()
    head = (
        f"POST /fs/cdr?uuid={uuid} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return send_raw(port, head.encode() + body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"variables": {"uuid": "0f0f0f0f-1111-2222-3333-444455556666"', "not JSON"),
        (b'{"callflow": []}', "without a variables"),
        (b"\xff\xfe", "codec"),
    ],
)
def test_malformed_post_is_kept_aside_and_answered_2xx(server, session_factory, body, reason):
    # mod_json_cdr retries anything but 2xx and then spools the same bytes: a 200 ends it here.
    status, answer = _post(server, body)
    assert status == 200 and b"kept aside" in answer
    kept = rejects(session_factory)
    assert len(kept) == 1 and reason in kept[0].reason
    assert kept[0].uuid == "0f0f0f0f-1111-2222-3333-444455556666"
    assert rows(session_factory) == {}


def test_uuid_in_url_must_be_the_legs(server, session_factory):
    status, _ = _post(server, captured_body("json-tone.http"), uuid=A_LEG)
    assert status == 200
    assert "not the leg's uuid" in rejects(session_factory)[0].reason


def test_database_failure_asks_the_switch_to_retry(server, engine, session_factory):
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE cdrs"))
    status, _ = send_raw(server, captured_request("json-tone.http"))
    assert status == 500  # retried by the switch, then spooled: never lost


def test_spool_import_is_idempotent(engine, session_factory, lab, tmp_path):
    spool = tmp_path / "json_cdr"
    (spool / "2026-11-25").mkdir(parents=True)
    (spool / f"{A_LEG}.cdr.json").write_bytes(captured_body("json-bridge-a-leg.http") + b"\n")
    (spool / "2026-11-25" / f"{B_LEG}.cdr.json").write_bytes(captured_body("json-bridge-b-leg.http") + b"\n")
    xml = captured_body("xml-bridge-a-leg.http")
    (spool / f"a_{A_LEG}.cdr.xml").write_bytes(xml)
    (spool / "broken.cdr.json").write_bytes(b'{"variables": ')
    store = CdrStore(engine, session_factory)
    first = import_spool(spool, store)
    assert (first.imported, first.duplicates, first.rejected) == (2, 1, 1)
    again = import_spool(spool, store)
    assert (again.imported, again.duplicates, again.rejected) == (0, 0, 0)
    assert sorted(rows(session_factory)) == sorted([A_LEG, B_LEG])
    assert {r.source for r in rows(session_factory).values()} == {"spool"}
    assert (spool / "imported" / "2026-11-25" / f"{B_LEG}.cdr.json").exists()
    assert (spool / "rejected" / "broken.cdr.json").exists()
    assert "not JSON" in rejects(session_factory)[0].reason
    # A file spooled again later (same leg) is recognised as already stored.
    (spool / f"{A_LEG}.cdr.json").write_bytes(captured_body("json-bridge-a-leg.http"))
    assert import_spool(spool, store).duplicates == 1


def test_json_document_of_a_post_is_the_same_leg_as_the_xml(engine, session_factory, lab):
    from fsctl.cdr.parse import parse_json, parse_xml

    from_json = parse_json(captured_body("json-bridge-a-leg.http"), A_LEG)
    from_xml = parse_xml(captured_body("xml-bridge-a-leg.http"), A_LEG)
    assert from_json.first == from_xml.first
    assert (from_json.started_at, from_json.billsec) == (from_xml.started_at, from_xml.billsec)
    assert json.loads(captured_body("json-bridge-a-leg.http"))["variables"]["uuid"] == A_LEG
