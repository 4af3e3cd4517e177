"""Live state from the captured streams: registrations, calls, ringing and parked calls per tenant."""

from __future__ import annotations

import datetime as dt

import pytest
from eslfake import raw_frames, stream_bytes, synthetic_api_response

from fsctl.esl.events import make_event, snapshot
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.esl.state import live_state, park_lot, ringing_on
from fsctl.esl.wiring import build_dispatcher

LATER = dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC)  # the captures were made at ~13:00 UTC


def users(*extensions: str) -> list[dict]:
    return [{"extension": e, "name": f"user {e}", "password": f"Str0ng-{e}-pass"} for e in extensions]


@pytest.fixture
def tenants(make_tenant, session_factory):
    """The two tenants of the captures: acme.example (1001-1003) and beta.example (1001-1002)."""
    make_tenant(
        domain="acme.example",
        users=users("1001", "1002", "1003"),
        numbers=[],
        ring_groups=[],
        park={"slots": "6001-6099"},
    )
    make_tenant(domain="beta.example", users=users("1001", "1002"), numbers=[], ring_groups=[], park=None)
    from fsctl.esl.state import TENANT

    with session_factory() as s:
        return {d: i for d, i in s.execute(TENANT.select().with_only_columns(TENANT.c.domain, TENANT.c.id))}


def events_of(name: str, lot: str | None = None):
    out = []
    for frame in FrameReader().feed(stream_bytes(name)):
        decoded = decode_event(frame)
        if decoded is None:
            continue
        headers, body = decoded
        if lot and headers.get("Valet-Lot-Name") == "lot1":
            # Synthetic rewrite: the lab used lot "lot1"; kumo names a tenant's lot park@<domain>.
            headers = {**headers, "Valet-Lot-Name": lot}
        out.append(make_event(headers, body))
    return out


def replay(engine, events):
    dispatcher = build_dispatcher(engine)
    dispatcher.run_inline(events)
    return dispatcher


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_registrations_per_tenant_and_nothing_for_a_failed_register(engine, tenants, fmt):
    replay(engine, events_of(f"inbound-{fmt}-register_bad_password.log"))
    acme = live_state(engine, tenants["acme.example"], now=LATER)["registrations"]
    beta = live_state(engine, tenants["beta.example"], now=LATER)["registrations"]
    assert sorted(r["extension"] for r in acme) == ["1001", "1002", "1003"]
    assert sorted(r["extension"] for r in beta) == ["1001", "1002"]
    assert all(r["user_agent"] for r in acme + beta)


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_unregister_removes_the_device(engine, tenants, fmt):
    replay(engine, events_of(f"inbound-{fmt}-register.log"))
    assert len(live_state(engine, tenants["acme.example"], now=LATER)["registrations"]) == 2
    replay(engine, events_of(f"inbound-{fmt}-unregister.log"))
    left = live_state(engine, tenants["acme.example"], now=LATER)["registrations"]
    assert [r["extension"] for r in left] == ["1002"]
    # expired registrations are not shown
    assert (
        live_state(engine, tenants["acme.example"], now=LATER + dt.timedelta(hours=2))["registrations"] == []
    )


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_bridge_call_is_live_while_up_and_gone_after_hangup(engine, tenants, fmt):
    events = events_of(f"inbound-{fmt}-bridge.log")
    bridged = next(i for i, e in enumerate(events) if e.name == "CHANNEL_BRIDGE")
    replay(engine, events[: bridged + 1])
    calls = live_state(engine, tenants["acme.example"])["calls"]
    assert {(c["direction"], c["extension"], c["state"]) for c in calls} == {
        ("inbound", "1001", "bridged"),
        ("outbound", "1002", "bridged"),
    }
    a = next(c for c in calls if c["direction"] == "inbound")
    assert a["caller_number"] == "1001" and a["destination"] == "1002" and a["answered_at"] is not None
    assert live_state(engine, tenants["beta.example"])["calls"] == []
    replay(engine, events[bridged + 1 :])
    assert live_state(engine, tenants["acme.example"])["calls"] == []


def test_resync_from_the_real_show_channels_answer_replaces_the_calls(engine, tenants):
    frames = FrameReader().feed(stream_bytes("inbound-plain-bridge.log.gz"))
    answer = next(f for f in frames if f.content_type == "api/response" and f.body.startswith(b"{"))
    dispatcher = replay(engine, [])
    dispatcher.run_inline([snapshot("channels", answer.body.decode())])
    calls = live_state(engine, tenants["acme.example"])["calls"]
    assert sorted(c["extension"] for c in calls) == ["1001", "1002"]
    dispatcher.run_inline([snapshot("channels", '{"row_count":0}')])
    assert live_state(engine, tenants["acme.example"])["calls"] == []


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_ringing_calls_per_extension_for_pickup(engine, tenants, fmt):
    events = events_of(f"inbound-{fmt}-pickup.log")
    # up to the moment 1003 dials **1002 in the second call
    stop = next(i for i, e in enumerate(events) if e.name == "CHANNEL_CREATE" and e.destination == "**1002")
    replay(engine, events[:stop])
    ringing = ringing_on(engine, tenants["acme.example"], "1002")
    assert len(ringing) == 1
    assert ringing[0]["caller_uuid"] == "43f0075a-b01e-488f-a5a7-01b1f182b323"
    assert ringing_on(engine, tenants["beta.example"], "1002") == []
    replay(engine, events[stop:])
    assert ringing_on(engine, tenants["acme.example"], "1002") == []


@pytest.mark.parametrize(
    "name",
    [
        "inbound-plain-park.log",
        "inbound-json-park.log",
        "inbound-plain-park_refer.log",
        "inbound-json-park_refer.log",
    ],
)
def test_parked_calls_from_valet_events(engine, tenants, name):
    events = events_of(name, lot=park_lot("acme.example"))
    held = next(
        i for i, e in enumerate(events) if e.name == "valet_parking::info" and e.get("Action") == "hold"
    )
    replay(engine, events[: held + 1])
    (parked,) = live_state(engine, tenants["acme.example"])["parked"]
    assert parked["slot"] == "6001" and parked["caller_number"] == "1001"
    assert parked["lot"] == "park@acme.example"
    if "refer" in name:
        assert parked["parked_by"] == "1002"  # Referred-By of the REFER
    assert live_state(engine, tenants["beta.example"])["parked"] == []
    replay(engine, events[held + 1 :])
    assert live_state(engine, tenants["acme.example"])["parked"] == []


def test_resync_from_valet_info_keeps_what_was_known_and_drops_what_is_gone(engine, tenants):
    events = events_of("inbound-plain-park.log", lot=park_lot("acme.example"))
    held = next(i for i, e in enumerate(events) if e.name == "valet_parking::info")
    dispatcher = replay(engine, events[: held + 1])
    since = live_state(engine, tenants["acme.example"])["parked"][0]["since"]
    frames = FrameReader().feed(stream_bytes("inbound-plain-park.log.gz"))
    info = next(f for f in frames if f.body.startswith(b"<lots>")).body.decode()
    # Synthetic rewrite of the lot name in the real answer (the lab's lot was "lot1").
    dispatcher.run_inline([snapshot("valet", info.replace('"lot1"', '"park@acme.example"'))])
    (parked,) = live_state(engine, tenants["acme.example"])["parked"]
    assert parked["since"] == since and parked["caller_number"] == "1001"
    dispatcher.run_inline([snapshot("valet", "<lots>\n</lots>\n")])
    assert live_state(engine, tenants["acme.example"])["parked"] == []


def test_state_writes_do_not_touch_the_config_version(engine, tenants, session_factory):
    from fsctl.esl.state import TENANT

    def versions():
        with engine.connect() as c:
            return dict(
                c.execute(TENANT.select().with_only_columns(TENANT.c.id, TENANT.c.config_version)).all()
            )

    before = versions()
    replay(
        engine, events_of("inbound-plain-register_bad_password.log") + events_of("inbound-plain-pickup.log")
    )
    assert versions() == before


def test_the_fake_switch_frames_are_the_capture():
    data = stream_bytes("inbound-plain-park.log")
    assert b"".join(raw_frames(data)) == data.replace(b"", b"")  # splitter loses nothing
    assert synthetic_api_response("x").count(b"X-Kumo-Synthetic") == 1


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_outside_lines_in_use_follow_the_limit_on_each_leg(engine, tenants, fmt):
    """The captured `limit` session: three calls from 1001 out to a carrier, two at a time. Synthetic
    rewrite: the lab's realm/key (acme.example/trunk) are kumo's (kumo_external/<tenant id>), as the
    routing's `limit hash kumo_external <tenant id> <max>` names them."""
    from fsctl.esl.state import outside_lines_in_use

    acme = tenants["acme.example"]
    lab_var = "variable_limit_usage_acme.example_trunk"
    events = []
    for event in events_of(f"inbound-{fmt}-limit.log.gz"):
        if lab_var in event.headers:
            headers = {k: v for k, v in event.headers.items() if k != lab_var}
            headers[f"variable_limit_usage_kumo_external_{acme}"] = event.headers[lab_var]
            event = make_event(headers, event.body)
        events.append(event)
    seen = []
    for index in range(len(events)):
        replay(engine, events[index : index + 1])
        with engine.connect() as conn:
            seen.append(outside_lines_in_use(conn, acme))
    assert max(seen) == 2  # the contract's two channels, never the refused third call
    assert seen[-1] == 0  # every call ended
    with engine.connect() as conn:
        assert outside_lines_in_use(conn, tenants["beta.example"]) == 0


def test_a_carrier_call_answered_by_a_menu_counts_for_its_tenant(engine, tenants):
    """The captured public call (loopback, context public) has no tenant domain; the routing marked its
    leg with the tenant (kumo_transfer_tenant) and took a channel (synthetic: both variables added)."""
    from fsctl.esl.state import outside_lines_in_use

    acme = tenants["acme.example"]
    events = events_of("inbound-plain-lookups.log.gz")
    create = next(
        e for e in events if e.name == "CHANNEL_CREATE" and e.headers.get("Caller-Context") == "public"
    )
    answer = next(e for e in events if e.name == "CHANNEL_ANSWER" and e.unique_id == create.unique_id)
    marked = {
        **answer.headers,
        "variable_kumo_transfer_tenant": str(acme),
        f"variable_limit_usage_kumo_external_{acme}": "1",
    }
    replay(engine, [create, make_event(marked, answer.body)])
    with engine.connect() as conn:
        assert outside_lines_in_use(conn, acme) == 1
    assert [c["uuid"] for c in live_state(engine, acme)["calls"]] == [create.unique_id]
