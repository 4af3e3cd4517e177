"""*78 / *79: the feature code's CUSTOM event is stored as the user's do not disturb, bumping the
tenant's config_version so the very next lookup routes with it. The events are synthetic (built in
the switch's header format: what the `event` application of the rendered plan fires)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fsctl import db, models
from fsctl.esl.dnd import DoNotDisturbEvents, DoNotDisturbLamps
from fsctl.esl.events import CustomEvent, make_event
from fsctl.esl.protocol import sendevent_bytes


def dnd_event(domain: str, extension: str, state: str):
    # Synthetic: the headers the dialplan's `event` application sets, then some of the channel's data.
    return make_event(
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "kumo::dnd",
            "kumo_domain": domain,
            "kumo_extension": extension,
            "kumo_dnd": state,
            "Caller-Username": extension,
        }
    )


def state(session_factory, domain: str, extension: str):
    with db.session_scope(session_factory) as session:
        return session.execute(
            select(models.User.do_not_disturb, models.Tenant.config_version)
            .join(models.Tenant)
            .where(models.Tenant.domain == domain, models.User.extension == extension)
        ).one()


def test_feature_code_event_sets_and_clears_do_not_disturb(engine, session_factory, make_tenant):
    domain = make_tenant()
    handler = DoNotDisturbEvents(engine)
    event = dnd_event(domain, "101", "on")
    assert isinstance(event, CustomEvent) and event.key in handler.events
    before = state(session_factory, domain, "101")
    assert before[0] is False
    handler.handle(event)
    on = state(session_factory, domain, "101")
    assert on[0] is True and on[1] > before[1]
    handler.handle(dnd_event(domain, "101", "on"))  # again: nothing changes, no bump
    assert state(session_factory, domain, "101") == on
    handler.handle(dnd_event(domain, "101", "off"))
    off = state(session_factory, domain, "101")
    assert off[0] is False and off[1] > on[1]
    with db.session_scope(session_factory) as session:
        details = session.scalars(
            select(models.AuditEntry.detail).where(models.AuditEntry.action == "user.do_not_disturb")
        ).all()
    assert details == ["101 on", "101 off"]


def test_unknown_tenant_user_or_state_changes_nothing(engine, session_factory, make_tenant):
    domain = make_tenant()
    handler = DoNotDisturbEvents(engine)
    before = state(session_factory, domain, "101")
    for event in (
        dnd_event("other.example", "101", "on"),
        dnd_event(domain, "999", "on"),
        dnd_event(domain, "101", "maybe"),
        dnd_event("", "101", "on"),
    ):
        handler.handle(event)
    assert state(session_factory, domain, "101") == before


def probe(to: str, node: str = "node-a"):
    # Synthetic: the PRESENCE_PROBE sofia fires on a SUBSCRIBE (sofia_presence.c), proto sip, from
    # the node whose switchname the core adds to every event.
    return make_event(
        {
            "Event-Name": "PRESENCE_PROBE",
            "FreeSWITCH-Switchname": node,
            "proto": "sip",
            "from": "102@acme.kumo.test",
            "to": to,
        }
    )


def test_a_subscribing_lamp_is_told_the_stored_state(engine, session_factory, make_tenant):
    domain = make_tenant()
    sent: list[tuple[str, dict[str, str], str]] = []
    lamps = DoNotDisturbLamps(engine, lambda name, headers, node: sent.append((name, headers, node)))
    assert probe(f"dnd+101@{domain}").key in lamps.events
    lamps.handle(probe(f"dnd+101@{domain}"))
    DoNotDisturbEvents(engine).handle(dnd_event(domain, "101", "on"))
    lamps.handle(probe(f"dnd+101@{domain.upper()}", node="node-b"))
    # Each answer goes to the node whose probe asked (the phone's subscription lives there).
    assert [(n, h["proto"], h["from"], h["answer-state"], node) for n, h, node in sent] == [
        ("PRESENCE_IN", "dnd", f"101@{domain}", "terminated", "node-a"),
        ("PRESENCE_IN", "dnd", f"101@{domain}", "confirmed", "node-b"),
    ]
    # Other lamps, unknown users and tenants get no answer from here.
    for to in (f"101@{domain}", f"park+701@{domain}", f"dnd+999@{domain}", "dnd+101@other.example", "dnd+@x"):
        lamps.handle(probe(to))
    assert len(sent) == 2


def test_sendevent_message_is_one_header_per_line():
    data = sendevent_bytes("PRESENCE_IN", {"proto": "dnd", "from": "101@acme.kumo.test"})
    assert data == b"sendevent PRESENCE_IN\nproto: dnd\nfrom: 101@acme.kumo.test\n\n"
    with pytest.raises(ValueError):
        sendevent_bytes("PRESENCE_IN", {"status": "x\nEvent-Name: CUSTOM"})
