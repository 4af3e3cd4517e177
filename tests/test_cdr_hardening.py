"""/fs/cdr and the spool import against hostile bodies."""

from __future__ import annotations

import base64
import json

import pytest
from cdr_helpers import A_LEG, LAB_AUTH, captured_body, lab_tenant, synthetic_leg
from sqlalchemy import func, select
from test_service import http, split_response

from fsctl import db, models
from fsctl.cdr.intake import MAX_CDR_BODY
from fsctl.cdr.spool import import_spool
from fsctl.cdr.store import CdrStore
from fsctl.httpserver import LookupServer
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

NESTED = b'{"variables": {"uuid": "x"}, "callflow": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def lab(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, lab_tenant())


@pytest.fixture
def server(settings, engine, lab):
    store = LookupStore(engine=engine)
    app = ServiceApp(settings.with_overrides(xml_curl_auth=LAB_AUTH), store)
    srv = LookupServer(("127.0.0.1", 0), app.handle)
    srv.start()
    yield srv.address[1]
    srv.stop()
    store.reset()


def _post(port: int, body: bytes, uuid: str = "0f0f0f0f-1111-2222-3333-444455556666") -> tuple[int, bytes]:
    auth = base64.b64encode(LAB_AUTH.encode()).decode()
    head = (
        f"POST /fs/cdr?uuid={uuid} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    # Read until the server closes: a connection closed without an answer fails here, it does not hang.
    raw = http(port, head.encode() + body)
    assert raw, "connection closed without an answer"
    status, _headers, answer = split_response(raw)
    return status, answer


def _count(session_factory, model) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_deeply_nested_json_gets_400_and_the_server_goes_on(server, session_factory):
    status, _ = _post(server, NESTED)
    assert status == 400
    assert _post(server, captured_body("json-bridge-a-leg.http"), uuid=A_LEG)[0] == 200
    assert _count(session_factory, models.CallRecord) == 1


def test_spool_import_moves_a_deeply_nested_file_aside_and_goes_on(engine, session_factory, lab, tmp_path):
    spool = tmp_path / "json_cdr"
    spool.mkdir()
    # Sorted first, so the valid file after it proves the import went on.
    (spool / "0000-nested.cdr.json").write_bytes(NESTED)
    (spool / f"{A_LEG}.cdr.json").write_bytes(captured_body("json-bridge-a-leg.http"))
    result = import_spool(spool, CdrStore(engine, session_factory))
    assert (result.imported, result.rejected) == (1, 1)
    assert (spool / "rejected" / "0000-nested.cdr.json").exists()


def test_a_body_over_the_cap_is_refused_and_not_stored(server, session_factory):
    junk = json.dumps({"variables": {"pad": "x" * MAX_CDR_BODY}}).encode()
    status, _ = _post(server, junk)
    assert status == 413
    assert _count(session_factory, models.CallRecord) == 0
    assert _count(session_factory, models.CdrReject) == 0


def test_a_leg_of_no_known_tenant_is_not_stored(server, session_factory):
    forged = synthetic_leg(
        "0f0f0f0f-1111-2222-3333-444455556666",
        "0312345678",
        billsec=3600,
        context="nobody.example",
        caller="1001",
        variables={
            "domain_name": "nobody.example",
            "user_context": "nobody.example",
            "dialed_domain": "nobody.example",
            "kumo_tenant_id": "",
        },
    )
    status, _ = _post(server, forged)
    assert status == 200  # no retry: the switch would only send the same bytes again
    assert _count(session_factory, models.CallRecord) == 0


def test_a_repeated_uuid_is_billed_once(server, session_factory):
    leg = synthetic_leg("0f0f0f0f-1111-2222-3333-444455556666", "0312345678", billsec=60)
    assert _post(server, leg)[0] == 200
    again = synthetic_leg("0f0f0f0f-1111-2222-3333-444455556666", "09012345678", billsec=3600)
    assert _post(server, again)[0] == 200
    with session_factory() as session:
        (row,) = session.scalars(select(models.CallRecord)).all()
    assert row.billsec == 60
