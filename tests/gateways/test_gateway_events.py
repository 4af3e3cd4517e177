"""Channel-plan accounting from the captured `limit` call events, rewritten for a gateway (synthetic part:
the realm/resource `acme.example trunk` -> `kumo_gateway <id>` in the application data and variables)."""

from __future__ import annotations

import copy
import datetime as dt
import gzip

import pytest
from gw_helpers import gateway_doc
from kumo_support import FIXTURES
from sqlalchemy import select

from fsctl import db, models
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.gateways.events import GatewayEvents
from fsctl.gateways.panel import gateway_status
from fsctl.wiring import tenant_file

REFUSED = "9bc56ede-dd29-49c8-be5f-b06d0d16d146"  # the third call of the capture, over the limit of 2
PASSED = ("57dd97ae-b828-419d-93f6-f38c7d45687c", "0f353a15-de8b-49fd-973b-ac32624aae36")


def captured_events(gateway_id: int) -> list[dict[str, str]]:
    data = gzip.decompress((FIXTURES / "esl" / "inbound-plain-limit.log.gz").read_bytes())
    data = data.replace(
        b"hash%20acme.example%20trunk%202", f"hash%20kumo_gateway%20{gateway_id}%202".encode()
    )
    data = data.replace(b"limit_usage_acme.example_trunk", f"limit_usage_kumo_gateway_{gateway_id}".encode())
    reader = FrameReader()
    events = []
    for frame in reader.feed(data):
        decoded = decode_event(frame)
        if decoded is not None:
            events.append(decoded[0])
    return events


@pytest.fixture
def honsha(session_factory) -> int:
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, copy.deepcopy(gateway_doc()))
    with db.session_scope(session_factory) as session:
        return session.scalar(select(models.Gateway.id).where(models.Gateway.name == "honsha"))


def test_the_captured_limit_calls_give_channels_in_use_and_one_refusal(engine, session_factory, honsha):
    events = captured_events(honsha)
    names = {e.get("Event-Name") for e in events}
    assert {"CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP_COMPLETE"} <= names
    handler = GatewayEvents(engine, clock=lambda: dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.UTC))
    in_use_seen: set[str] = set()
    for headers in events:
        handler.handle_headers(headers)
        with session_factory() as session:
            in_use_seen |= set(session.scalars(select(models.GatewayChannel.uuid)))
    assert set(PASSED) <= in_use_seen and REFUSED not in in_use_seen
    with session_factory() as session:
        refusals = session.scalars(select(models.GatewayRefusal)).all()
        assert [(r.call_uuid, r.gateway_id, r.direction, r.destination) for r in refusals] == [
            (REFUSED, honsha, "out", "8500")
        ]
        # Every call of the capture hung up: nothing is left holding a channel.
        assert session.scalars(select(models.GatewayChannel)).all() == []
    for headers in events:  # replayed again (a reconnect re-delivers nothing, but a handler must not double)
        handler.handle_headers(headers)
    with session_factory() as session:
        assert len(session.scalars(select(models.GatewayRefusal)).all()) == 1


def test_status_shows_registration_channels_and_refusals(engine, session_factory, honsha):
    events = captured_events(honsha)
    handler = GatewayEvents(engine, clock=lambda: dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.UTC))
    first_answer = next(
        i
        for i, e in enumerate(events)
        if e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE"
        and e.get("Unique-ID") == PASSED[1]
        and e.get("Application") == "limit"
    )
    for headers in events[: first_answer + 1]:
        handler.handle_headers(headers)
    now = dt.datetime(2026, 11, 25, 13, 1, tzinfo=dt.UTC)
    with db.session_scope(session_factory) as session:
        tenant = db.tenant_by_domain(session, "acme.kumo.test")
        for uuid in PASSED:  # the ESL service's live calls for the two answered calls
            session.add(models.LiveCall(uuid=uuid, tenant_id=tenant.id, call_uuid=uuid, started_at=now))
        session.add(
            models.LiveRegistration(
                tenant_id=tenant.id,
                extension="honsha",
                call_id="1-1@203.0.113.5",
                contact="sip:honsha@203.0.113.5:5060",
                network_address="203.0.113.5",
                user_agent="Gateway/1.0",
                expires_at=now + dt.timedelta(minutes=5),
            )
        )
    with session_factory() as session:
        status = {g["name"]: g for g in gateway_status(session, tenant.id, now=now)}
    assert status["honsha"]["registered"] is True and status["honsha"]["contacts"] == ["203.0.113.5"]
    assert status["honsha"]["channels_in_use"] == 2 and status["honsha"]["channels"] == 4
    assert status["osaka"]["registered"] is None  # static: admitted by address, never registers
    assert status["osaka"]["channels_in_use"] == 0
    for headers in events[first_answer + 1 :]:
        handler.handle_headers(headers)
    with session_factory() as session:
        status = {g["name"]: g for g in gateway_status(session, tenant.id, now=now)}
    assert status["honsha"]["channels_in_use"] == 0 and status["honsha"]["refused_today"] == 1
    later = now + dt.timedelta(minutes=10)  # the registration expired
    with session_factory() as session:
        assert {g["name"]: g for g in gateway_status(session, tenant.id, now=later)}["honsha"][
            "registered"
        ] is False


def test_fsctl_gateways_status_shows_the_refusal(engine, session_factory, honsha, database_url, capsys):
    from fsctl.cli import main

    handler = GatewayEvents(engine)  # refusals dated now, so they count as today's
    for headers in captured_events(honsha):
        handler.handle_headers(headers)
    assert main(["--database-url", database_url, "gateways", "status", "acme.kumo.test"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "honsha: NOT registered; 0/4 channels in use; 1 refused today; numbers 0355550100"
    )
    assert out[1].startswith(
        "osaka: static 203.0.113.10 (203.0.113.8/29); 0/8 channels in use; 0 refused today"
    )
    assert main(["--database-url", database_url, "gateways", "status", "nowhere.kumo.test"]) == 2


def test_the_service_dispatcher_feeds_gateway_events(engine):
    from fsctl.esl.inbound import subscription_command
    from fsctl.esl.wiring import build_dispatcher

    dispatcher = build_dispatcher(engine)
    assert any(isinstance(handler, GatewayEvents) for handler in dispatcher.handlers)
    command = subscription_command(dispatcher)
    assert "CHANNEL_EXECUTE_COMPLETE" in command and "CHANNEL_HANGUP_COMPLETE" in command
