"""Registrations from sofia events: exact (one row per registered contact, as mod_sofia keeps them)
and cheap (held per user and written once per flush interval, not once per event).

The captured streams give the real register / unregister events; what the lab did not capture
(a phone coming back under a new Call-ID, an expiry) is built from a captured event with the few
headers sofia_reg.c changes, as synthetic json frames (eslfake.synthetic_json_event)."""

from __future__ import annotations

import datetime as dt

import pytest
from eslfake import stream_bytes, synthetic_json_event
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_esl_state import LATER, events_of, tenants  # noqa: F401 - the captured tenants' fixture

from fsctl.esl.dispatch import Dispatcher
from fsctl.esl.events import event_from_frame, snapshot
from fsctl.esl.handlers import Registrations
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.esl.state import REG, Tenants, live_state


def captured_register(user: str = "1001") -> dict[str, str]:
    """The headers of the captured sofia::register of `user`@acme.example (json stream)."""
    for frame in FrameReader().feed(stream_bytes("inbound-json-register.log")):
        decoded = decode_event(frame)
        if decoded and decoded[0].get("Event-Subclass") == "sofia::register":
            if decoded[0]["username"] == user:
                return decoded[0]
    raise AssertionError(user)


def synthetic(headers: dict[str, str], **changes: str):
    """One event through the real frame reader and decoder, from a synthetic json frame."""
    merged = {**headers, **{k.replace("_", "-"): v for k, v in changes.items()}}
    frames = list(FrameReader().feed(synthetic_json_event(merged)))
    assert len(frames) == 1 and b"X-Kumo-Synthetic: true" in synthetic_json_event(merged)
    return event_from_frame(frames[0])


def reregister(user: str, call_id: str, contact: str | None = None, port: str | None = None):
    base = captured_register(user)
    changes = {"call_id": call_id}
    if contact is not None:
        changes["contact"] = contact
    if port is not None:
        changes["network_port"] = port
    return synthetic(base, **changes)


def expire(user: str, call_id: str, contact: str):
    """sofia::expire as sofia_reg_del_callback builds it: call-id, user, username, host, contact,
    expires, user-agent, realm, network-ip, network-port (no domain_name, no from-user); the core
    adds FreeSWITCH-Switchname to every event (the captures' switch is named "vm")."""
    return synthetic(
        {
            "Event-Name": "CUSTOM",
            "FreeSWITCH-Switchname": "vm",
            "Event-Subclass": "sofia::expire",
            "Event-Date-Timestamp": "1795611500000000",
            "profile-name": "internal",
            "call-id": call_id,
            "user": user,
            "username": user,
            "host": "acme.example",
            "contact": contact,
            "expires": "1795615016",
            "user-agent": "sipp-lab",
            "realm": "acme.example",
            "network-ip": "127.0.0.1",
            "network-port": "5071",
        }
    )


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                REG.select().with_only_columns(REG.c.tenant_id, REG.c.extension, REG.c.call_id, REG.c.contact)
            ).all()
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def handler(engine, multiple: bool = False, flush_seconds: float = 1.0, clock=None) -> Registrations:
    return Registrations(
        engine, Tenants(engine), multiple=multiple, flush_seconds=flush_seconds, clock=clock or Clock()
    )


def apply(engine, events, multiple: bool = False) -> None:
    dispatcher = Dispatcher([handler(engine, multiple)])
    dispatcher.run_inline(events)


def test_a_phone_back_under_a_new_call_id_replaces_its_row(engine, tenants):  # noqa: F811
    apply(engine, events_of("inbound-json-register.log"))
    acme = tenants["acme.example"]
    assert [r[1:3] for r in rows(engine)] == [("1001", "1-10886@127.0.0.1"), ("1002", "1-10890@127.0.0.1")]
    # Rebooted: same contact, new Call-ID (what made 3,040 rows for 1,000 phones).
    apply(engine, [reregister("1001", "reboot-1@127.0.0.1")])
    # Rebooted behind NAT: new Call-ID and a new source port, hence a new contact. Without
    # multiple-registrations the switch deletes every row of the user first: so do we.
    apply(engine, [reregister("1002", "reboot-2@127.0.0.1", '"" <sip:1002@127.0.0.1:6072>', "6072")])
    assert rows(engine) == [
        (acme, "1001", "reboot-1@127.0.0.1", '"" <sip:1001@127.0.0.1:5071>'),
        (acme, "1002", "reboot-2@127.0.0.1", '"" <sip:1002@127.0.0.1:6072>'),
    ]
    shown = live_state(engine, acme, now=LATER)["registrations"]
    assert [(r["extension"], r["network_address"]) for r in shown] == [
        ("1001", "127.0.0.1:5071"),
        ("1002", "127.0.0.1:6072"),
    ]


def test_the_captured_unregister_removes_the_user_whatever_its_call_id(engine, tenants):  # noqa: F811
    # The captured unregister (1-11135) carries another Call-ID than the register (1-10886).
    apply(engine, events_of("inbound-json-register.log"))
    apply(engine, [reregister("1001", "reboot-1@127.0.0.1")])
    apply(engine, events_of("inbound-json-unregister.log"))
    assert [r[1] for r in rows(engine)] == ["1002"]


def test_an_expiry_removes_only_the_row_it_names(engine, tenants):  # noqa: F811
    contact = '"" <sip:1001@127.0.0.1:5071>'
    apply(engine, events_of("inbound-json-register.log"))
    apply(engine, [reregister("1001", "reboot-1@127.0.0.1")])
    apply(engine, [expire("1001", "1-10886@127.0.0.1", contact)])  # the row the reboot replaced
    assert [r[1:3] for r in rows(engine)] == [("1001", "reboot-1@127.0.0.1"), ("1002", "1-10890@127.0.0.1")]
    apply(engine, [expire("1001", "reboot-1@127.0.0.1", contact)])
    assert [r[1] for r in rows(engine)] == ["1002"]


def test_with_multiple_registrations_one_row_per_contact(engine, tenants):  # noqa: F811
    desk = '"" <sip:1001@127.0.0.1:5071>'
    soft = '"" <sip:1001@192.0.2.9:5060>'
    apply(engine, events_of("inbound-json-register.log"), multiple=True)
    apply(engine, [reregister("1001", "soft-1@192.0.2.9", soft)], multiple=True)
    apply(engine, [reregister("1001", "desk-2@127.0.0.1", desk)], multiple=True)  # desk rebooted
    assert [r[1:] for r in rows(engine) if r[1] == "1001"] == [
        ("1001", "desk-2@127.0.0.1", desk),
        ("1001", "soft-1@192.0.2.9", soft),
    ]
    apply(
        engine,
        [
            synthetic(
                captured_register("1001"),
                Event_Subclass="sofia::unregister",
                call_id="soft-1@192.0.2.9",
                contact=soft,
                expires="0",
            )
        ],
        multiple=True,
    )
    assert [r[1:] for r in rows(engine) if r[1] == "1001"] == [("1001", "desk-2@127.0.0.1", desk)]


def test_events_are_held_and_written_once_per_user_per_interval(engine, tenants):  # noqa: F811
    clock = Clock()
    regs = handler(engine, clock=clock, flush_seconds=1.0)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "live_registrations" in statement and not statement.startswith("SELECT"):
            statements.append(statement.split()[0])

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        events = []
        for n in range(20):  # each phone re-registers 10 times within the interval, new Call-ID each time
            for user in ("1001", "1002"):
                events.append(reregister(user, f"{user}-{n}@127.0.0.1"))
        for event in events[:-1]:
            regs.handle_batch([event])
            clock.now += 0.01
        assert statements == [] and rows(engine) == []  # nothing written per event
        clock.now += 1.0
        regs.handle_batch([events[-1]])  # the interval passed: one write for everything held
        assert statements == ["DELETE", "INSERT"]  # both users' rows: one statement each
        assert [r[1:3] for r in rows(engine)] == [
            ("1001", "1001-19@127.0.0.1"),
            ("1002", "1002-19@127.0.0.1"),
        ]
        assert regs.flush_due() is None
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


def test_what_a_failed_write_held_is_written_later_in_order(engine, tenants):  # noqa: F811
    clock = Clock()
    regs = handler(engine, clock=clock)
    regs.handle_batch([reregister("1001", "a@127.0.0.1")])
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE live_registrations RENAME TO live_registrations_away"))
    with pytest.raises(DBAPIError):
        regs.flush()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE live_registrations_away RENAME TO live_registrations"))
    regs.handle_batch([reregister("1002", "b@127.0.0.1")])
    regs.flush()
    assert [r[1:3] for r in rows(engine)] == [("1001", "a@127.0.0.1"), ("1002", "b@127.0.0.1")]


def test_the_worker_writes_at_the_deadline_and_on_stop_without_more_events(engine, tenants):  # noqa: F811
    import gevent

    quick = Registrations(engine, Tenants(engine), flush_seconds=0.05)
    dispatcher = Dispatcher([quick])
    dispatcher.start()
    dispatcher.submit(reregister("1001", "a@127.0.0.1"))
    for _ in range(200):
        gevent.sleep(0.01)
        if rows(engine):
            break
    assert [r[1] for r in rows(engine)] == ["1001"]
    dispatcher.stop()
    # Shutdown: queued and held events are written before the service stops.
    slow = Registrations(engine, Tenants(engine), flush_seconds=3600)
    dispatcher = Dispatcher([slow])
    dispatcher.start()
    dispatcher.submit(reregister("1002", "b@127.0.0.1"))
    gevent.sleep(0.02)
    dispatcher.submit(reregister("1001", "c@127.0.0.1"))
    assert [r[1:3] for r in rows(engine)] == [("1001", "a@127.0.0.1")]
    dispatcher.stop()
    assert [r[1:3] for r in rows(engine)] == [("1001", "c@127.0.0.1"), ("1002", "b@127.0.0.1")]


def test_a_resync_replaces_what_was_held(engine, tenants):  # noqa: F811
    regs = handler(engine)
    regs.handle_batch([reregister("1001", "a@127.0.0.1"), reregister("1002", "b@127.0.0.1")])
    # The switch's answer to `show registrations as json` (synthetic, in its column names) lists 1002
    # only, twice: one row results.
    answer = (
        '{"row_count":2,"rows":['
        '{"reg_user":"1002","realm":"acme.example","token":"b@127.0.0.1","url":"sip:1002@127.0.0.1:5072",'
        '"expires":"1795615016","network_ip":"127.0.0.1","network_port":"5072"},'
        '{"reg_user":"1002","realm":"acme.example","token":"b@127.0.0.1","url":"sip:1002@127.0.0.1:5072",'
        '"expires":"1795615016","network_ip":"127.0.0.1","network_port":"5072"}]}'
    )
    regs.handle_batch([snapshot("registrations", answer)])
    regs.flush()
    assert [r[1:3] for r in rows(engine)] == [("1002", "b@127.0.0.1")]
    assert regs.flush_due() is None


def test_every_tenant_gets_its_own_rows(engine, tenants):  # noqa: F811
    apply(engine, events_of("inbound-json-register_bad_password.log"))
    beta_headers = {
        **captured_register("1001"),
        "from-host": "beta.example",
        "realm": "beta.example",
        "domain_name": "beta.example",
        "call-id": "beta-2",
    }
    beta_later = synthetic(beta_headers)
    apply(engine, [beta_later])
    acme = live_state(engine, tenants["acme.example"], now=LATER)["registrations"]
    beta = live_state(engine, tenants["beta.example"], now=LATER)["registrations"]
    assert sorted(r["extension"] for r in acme) == ["1001", "1002", "1003"]
    assert sorted((r["extension"], r["call_id"] == "beta-2") for r in beta) == [
        ("1001", True),
        ("1002", False),
    ]
    assert len(rows(engine)) == 5
    assert dt.timedelta(0) < acme[0]["expires_at"] - acme[0]["updated_at"]
