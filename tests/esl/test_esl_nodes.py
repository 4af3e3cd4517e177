"""Several FreeSWITCH nodes, one kumo: each node's events land in the same live tables marked with
their node, a reconnection to one node rebuilds only its rows, and a command goes to the node that
holds what it is about (configuration to every node).

The nodes are fake switches replaying the captured json streams; node B's events are the captured
ones rewritten (SYNTHETIC: switchname, and acme.example -> beta.example) as synthetic json frames."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from eslfake import FakeSwitch, stream_bytes, synthetic_api_response, synthetic_json_event
from test_esl_connection import Collect, wait_for
from test_esl_registrations import captured_register, expire, synthetic
from test_esl_state import tenants  # noqa: F401 - the captured tenants' fixture

from fsctl.config import SettingError, parse_esl_addresses, settings_from_env
from fsctl.esl.cache_flush import FLUSH_ALL, DirectoryCacheFlusher
from fsctl.esl.connection import NotConnected
from fsctl.esl.dispatch import Dispatcher
from fsctl.esl.events import make_event, snapshot
from fsctl.esl.handlers import Parking, Registrations
from fsctl.esl.nodes import SwitchNodes
from fsctl.esl.park import ParkTimeouts
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.esl.state import CALL, PARK, REG, Tenants, park_lot
from fsctl.esl.wiring import build_dispatcher
from fsctl.metrics import Metrics
from fsctl.xmlcurl.store import LookupStore

NO_ROWS = synthetic_api_response('{"row_count":0}\n')


def rewritten_events(name: str, node: str, domain: str = "acme.example", stop_at: str = "") -> list[bytes]:
    """The captured events of a stream as node `node` would send them, for tenant `domain`; up to
    (not including) the first event named `stop_at`."""
    frames = []
    for frame in FrameReader().feed(stream_bytes(name)):
        decoded = decode_event(frame)
        if decoded is None:
            continue
        headers = {
            k: v.replace("acme.example", domain) if isinstance(v, str) else v for k, v in decoded[0].items()
        }
        if stop_at and headers.get("Event-Name") == stop_at:
            break
        headers["FreeSWITCH-Switchname"] = node
        frames.append(synthetic_json_event(headers))
    return frames


def node_switch(node: str, events: list[bytes]) -> FakeSwitch:
    """A fake node named `node`; it holds its events until the test lets them go (`hold_events`),
    so its empty resync answers come before them, as a real switch's state would."""
    fake = FakeSwitch(
        "inbound-json-register.log",
        events=events,
        extra={
            "api switchname": synthetic_api_response(f"{node}\n"),
            "api show channels as json": NO_ROWS,
            "api show registrations as json": NO_ROWS,
        },
    )
    fake.hold_events.clear()
    return fake.start()


def nodes_for(*fakes: FakeSwitch, dispatcher=None, metrics=None) -> SwitchNodes:
    return SwitchNodes(
        [f.address for f in fakes],
        "ClueCon",
        metrics or Metrics(esl_links=tuple(f"{h}:{p}" for h, p in (f.address for f in fakes))),
        dispatcher=dispatcher,
        first_backoff=0.05,
        max_backoff=0.2,
        connect_timeout=1.0,
        command_timeout=1.0,
    )


def table(engine, t, *columns) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(conn.execute(t.select().with_only_columns(*(t.c[c] for c in columns))).all())


@pytest.fixture
def two_nodes():
    started: list = []

    def make(events_a: list[bytes], events_b: list[bytes], dispatcher):
        a, b = node_switch("node-a", events_a), node_switch("node-b", events_b)
        nodes = nodes_for(a, b, dispatcher=dispatcher)
        started.extend([nodes, a, b])
        nodes.start()
        assert wait_for(lambda: all(c.synced.is_set() for c in nodes.connections))
        a.hold_events.set()
        b.hold_events.set()
        return a, b, nodes

    yield make
    for thing in started:
        thing.stop()


def test_two_nodes_feed_one_kumo_each_row_marked_with_its_node(engine, tenants, two_nodes):  # noqa: F811
    dispatcher = build_dispatcher(engine)
    # Node A: acme's phones register and a call comes up (and stays up); node B: beta's phones.
    events_a = rewritten_events("inbound-json-register.log", "node-a") + rewritten_events(
        "inbound-json-bridge.log", "node-a", stop_at="CHANNEL_HANGUP_COMPLETE"
    )
    events_b = rewritten_events("inbound-json-register.log", "node-b", domain="beta.example")
    a, b, nodes = two_nodes(events_a, events_b, dispatcher)
    assert [c.node for c in nodes.connections] == ["node-a", "node-b"]
    assert nodes.connected and nodes.status() == {
        f"{a.address[0]}:{a.address[1]}": {"node": "node-a", "state": "connected"},
        f"{b.address[0]}:{b.address[1]}": {"node": "node-b", "state": "connected"},
    }
    acme, beta = tenants["acme.example"], tenants["beta.example"]
    expected_regs = [
        (acme, "1001", "node-a"),
        (acme, "1002", "node-a"),
        (beta, "1001", "node-b"),
        (beta, "1002", "node-b"),
    ]
    assert wait_for(
        lambda: dispatcher.drain() and table(engine, REG, "tenant_id", "extension", "node") == expected_regs
    )
    calls = table(engine, CALL, "uuid", "node")
    assert calls and {node for _, node in calls} == {"node-a"}

    # Node B's link drops; it comes back with nothing registered. Only B's rows go.
    b.events = []
    b.kill_connections()
    assert wait_for(lambda: b.connections == 2 and nodes.connections[1].synced.is_set())
    assert wait_for(
        lambda: (
            dispatcher.drain() and table(engine, REG, "tenant_id", "extension", "node") == expected_regs[:2]
        )
    )
    assert table(engine, CALL, "uuid", "node") == calls  # A's call is untouched
    assert a.connections == 1 and a.received.count("api show registrations as json") == 1


def test_a_node_that_gives_no_switchname_replaces_every_row_as_a_single_switch(engine, tenants):  # noqa: F811
    handler = Registrations(engine, Tenants(engine))
    Dispatcher([handler]).run_inline(
        [
            make_event(decode_event(f)[0])
            for f in FrameReader().feed(b"".join(rewritten_events("inbound-json-register.log", "vm")))
        ]
    )
    assert len(table(engine, REG, "extension")) == 2
    Dispatcher([handler]).run_inline([snapshot("registrations", '{"row_count":0}', node="")])
    assert table(engine, REG, "extension") == []


def test_a_phone_follows_its_newest_registration_across_nodes(engine, tenants):  # noqa: F811
    """SYNTHETIC from the captured register of 1001@acme.example: the tenant moved from node A to B;
    the phone registers on B with the same Call-ID while A holds its registration until it expires."""
    handler = Registrations(engine, Tenants(engine))
    dispatcher = Dispatcher([handler])
    first = captured_register("1001")
    call_id, contact = first["call-id"], first["contact"]
    on_a = synthetic(first, FreeSWITCH_Switchname="node-a")
    on_b = synthetic(first, FreeSWITCH_Switchname="node-b")
    dispatcher.run_inline([on_a])
    assert table(engine, REG, "extension", "node") == [("1001", "node-a")]
    dispatcher.run_inline([on_b])
    assert table(engine, REG, "extension", "node") == [("1001", "node-b")]
    # A's copy expires later: it names the same Call-ID, but only A's row could be it.
    gone = expire("1001", call_id, contact)
    dispatcher.run_inline([make_event({**gone.headers, "FreeSWITCH-Switchname": "node-a"})])
    assert table(engine, REG, "extension", "node", "call_id") == [("1001", "node-b", call_id)]
    # An unregister on A (the old node) leaves B's row too; one on B removes it.
    unregister = {**on_a.headers, "Event-Subclass": "sofia::unregister"}
    dispatcher.run_inline([make_event(unregister)])
    assert table(engine, REG, "node") == [("node-b",)]
    # A resync of A that still lists the phone with an older expiry does not bring it back.
    (b_expires,) = (r[0] for r in table(engine, REG, "expires_at"))
    older = b_expires.replace(tzinfo=dt.UTC) - dt.timedelta(seconds=60)
    answer = {
        "row_count": 1,
        "rows": [
            {
                "reg_user": "1001",
                "realm": "acme.example",
                "token": call_id,
                "url": contact,
                "expires": str(int(older.timestamp())),
                "network_ip": "127.0.0.1",
                "network_port": "5071",
                "agent": "x",
            }
        ],
    }
    dispatcher.run_inline([snapshot("registrations", json.dumps(answer), node="node-a")])
    assert table(engine, REG, "node") == [("node-b",)]
    # One with a later expiry is the newer registration: it replaces B's row.
    answer["rows"][0]["expires"] = str(int((older + dt.timedelta(hours=2)).timestamp()))
    dispatcher.run_inline([snapshot("registrations", json.dumps(answer), node="node-a")])
    assert table(engine, REG, "node") == [("node-a",)]
    dispatcher.run_inline([make_event({**on_a.headers, "Event-Subclass": "sofia::unregister"})])
    assert table(engine, REG, "node") == []


def valet_hold(node: str, uuid: str, slot: str = "6001") -> object:
    return make_event(
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "valet_parking::info",
            "FreeSWITCH-Switchname": node,
            "Action": "hold",
            "Valet-Lot-Name": park_lot("acme.example"),
            "Valet-Extension": slot,
            "Unique-ID": uuid,
            "Caller-Caller-ID-Number": "1001",
            "variable_kumo_parked_by": "1002",
        }
    )


def test_park_slots_are_per_node_and_a_valet_resync_keeps_the_other_node(engine, tenants):  # noqa: F811
    dispatcher = Dispatcher([Parking(engine, Tenants(engine))])
    dispatcher.run_inline([valet_hold("node-a", "uuid-a"), valet_hold("node-b", "uuid-b")])
    assert table(engine, PARK, "node", "slot", "uuid") == [
        ("node-a", "6001", "uuid-a"),
        ("node-b", "6001", "uuid-b"),
    ]
    dispatcher.run_inline([snapshot("valet", "<lots>\n</lots>\n", node="node-b")])
    assert table(engine, PARK, "node", "uuid") == [("node-a", "uuid-a")]


def test_a_command_about_a_call_goes_to_its_node_and_configuration_to_every_node(engine, tenants, two_nodes):  # noqa: F811
    a, b, nodes = two_nodes([], [], None)
    # A call parked on node B for too long: the ring-back goes to B only.
    Dispatcher([Parking(engine, Tenants(engine))]).run_inline([valet_hold("node-b", "uuid-b")])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=600)
    assert ParkTimeouts(engine, nodes.api, clock=lambda: later).check_once() == 1
    assert [c for c in b.received if c.startswith("api uuid_")] == [
        f"api uuid_setvar uuid-b kumo_continuation {tenants['acme.example']}/",
        "api uuid_transfer uuid-b kumo-parkreturn-1002-6001 XML acme.example",
    ]
    assert not [c for c in a.received if c.startswith("api uuid_")]
    # A node not known by name (a row from before nodes were recorded): every node is asked in turn
    # until one accepts; both fakes refuse this one, so both were asked.
    reply = nodes.api("api uuid_kill nobody", "")
    assert not reply.ok and "api uuid_kill nobody" in a.received and "api uuid_kill nobody" in b.received
    # Directory cache flushes (configuration): every node.
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), nodes.api_everywhere)
    flusher.on_connect(nodes.connections[0])
    assert FLUSH_ALL in a.received and FLUSH_ALL in b.received
    # A node that is down: commands for it fail loudly, configuration still reaches the others.
    b.stop()
    assert wait_for(lambda: not nodes.connections[1].connected)
    with pytest.raises(NotConnected):
        nodes.api("api uuid_kill uuid-b", "node-b")
    assert not nodes.connected
    nodes.api_everywhere("api xml_flush_cache id 1001 acme.example")
    assert "api xml_flush_cache id 1001 acme.example" in a.received


def test_events_from_both_nodes_reach_one_dispatcher_and_health_names_each_node(two_nodes):
    collect = Collect(("sofia::register",))
    events_a = rewritten_events("inbound-json-register.log", "node-a")
    events_b = rewritten_events("inbound-json-register.log", "node-b")
    a, b, nodes = two_nodes(events_a, events_b, Dispatcher([collect]))
    assert wait_for(lambda: len(collect.seen) == 4)
    assert sorted(e.node for e in collect.seen) == ["node-a", "node-a", "node-b", "node-b"]
    metrics = nodes.connections[0].metrics
    assert metrics.esl_connected
    assert {v["node"] for v in metrics.esl_nodes().values()} == {"node-a", "node-b"}
    text = metrics.render().decode()
    assert "kumo_esl_connected 1" in text
    assert f'kumo_esl_node_connected{{address="{b.address[0]}:{b.address[1]}",node="node-b"}} 1' in text
    b.stop()
    assert wait_for(lambda: not metrics.esl_connected)
    assert metrics.esl_nodes()[f"{b.address[0]}:{b.address[1]}"]["state"] == "disconnected"
    assert "kumo_esl_connected 0" in metrics.render().decode()


def test_esl_address_lists_several_nodes_and_names_a_bad_entry():
    assert parse_esl_addresses("127.0.0.2:8021, 127.0.0.3:8022,127.0.0.4") == (
        ("127.0.0.2", 8021),
        ("127.0.0.3", 8022),
        ("127.0.0.4", 8021),
    )
    settings = settings_from_env({"FSCTL_ESL_ADDRESS": "127.0.0.2:8021,127.0.0.3:8022"})
    assert settings.esl_address == ("127.0.0.2", 8021) and len(settings.esl_addresses) == 2
    assert settings_from_env({}).esl_addresses == (("127.0.0.1", 8021),)
    for bad, says in (
        ("127.0.0.2:80x", "'127.0.0.2:80x' is not host:port"),
        ("127.0.0.2:8021,", "an empty entry"),
        ("127.0.0.2:0", "is not host:port"),
        ("a:1,a:1", "listed twice"),
    ):
        with pytest.raises(SettingError, match="FSCTL_ESL_ADDRESS") as raised:
            parse_esl_addresses(bad)
        assert says in str(raised.value)
