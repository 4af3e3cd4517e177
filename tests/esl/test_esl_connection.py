"""Inbound connection (defect 3), outbound session (defects 4, 5) and dispatch (defect 6)."""

from __future__ import annotations

import time

import gevent
import gevent.socket
import pytest
from eslfake import FakeSwitch, Recording, synthetic_api_response

from fsctl.esl.connection import CommandTimeout, Connection, NotConnected
from fsctl.esl.dispatch import Dispatcher, Handler
from fsctl.esl.events import SNAPSHOT, Snapshot
from fsctl.esl.inbound import InboundConnection, subscription_command
from fsctl.metrics import Metrics


class Collect(Handler):
    def __init__(self, events=("*",), delay: float = 0.0):
        self.events = events
        self.seen = []
        self.delay = delay

    def handle(self, event):
        if self.delay:
            gevent.sleep(self.delay)
        self.seen.append(event)


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        gevent.sleep(0.01)
    return False


def inbound(
    fake: FakeSwitch, dispatcher: Dispatcher, metrics: Metrics | None = None, **kw
) -> InboundConnection:
    # Subscribe in the format of the capture the fake replays (the service's default is json).
    kw.setdefault("event_format", "json" if "-json-" in fake.recording.name else "plain")
    return InboundConnection(
        fake.address,
        "ClueCon",
        metrics or Metrics(),
        dispatcher=dispatcher,
        first_backoff=0.05,
        max_backoff=0.2,
        connect_timeout=1.0,
        command_timeout=1.0,
        **kw,
    )


VALET_INFO = "api valet_info"


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_inbound_replays_a_capture_and_resyncs_from_the_switch(fmt):
    fake = FakeSwitch(f"inbound-{fmt}-park.log", chunk=512).start()
    collect = Collect()
    conn = inbound(fake, Dispatcher([collect]))
    conn.start()
    try:
        assert wait_for(
            lambda: (
                conn.synced.is_set()
                and any(e.name == "valet_parking::info" and e.get("Action") == "exit" for e in collect.seen)
            )
        )
        assert fake.received[0] == "auth ClueCon"
        assert fake.received[1] == f"event {fmt} ALL"
        assert "api show channels as json" in fake.received and VALET_INFO in fake.received
        snaps = [e for e in collect.seen if isinstance(e, Snapshot)]
        if fmt == "plain":  # only the plain capture recorded the switch's valet_info answer
            valet = next(s for s in snaps if s.kind == "valet")
            assert '<extension uuid="998c0b17-1643-4c72-9600-4d771331ec18">6001</extension>' in valet.body
        else:
            parked = [
                e for e in collect.seen if e.name == "valet_parking::info" and e.get("Action") == "hold"
            ]
            assert parked and parked[0].get("Valet-Extension") == "6001"
        assert conn.metrics.esl_connected
    finally:
        conn.stop()
        fake.stop()


def test_the_service_subscribes_in_json():
    assert InboundConnection(("127.0.0.1", 1), "x", Metrics()).event_format == "json"


def test_subscription_names_events_and_custom_subclasses():
    d = Dispatcher([Collect(("CHANNEL_CREATE", "sofia::register", "valet_parking::info", SNAPSHOT))])
    assert (
        subscription_command(d)
        == "event plain CHANNEL_CREATE HEARTBEAT CUSTOM sofia::register valet_parking::info"
    )


def test_reconnects_with_backoff_resubscribes_and_resyncs_after_a_drop():
    no_calls = synthetic_api_response('{"row_count":0}\n')
    fake = FakeSwitch("inbound-json-register.log", extra={"api show channels as json": no_calls}).start()
    collect = Collect()
    metrics = Metrics()
    conn = inbound(fake, Dispatcher([collect]), metrics)
    conn.start()
    try:
        assert wait_for(lambda: conn.synced.is_set())
        fake.kill_connections()
        assert wait_for(lambda: fake.connections == 2 and conn.synced.is_set())
        assert fake.received.count("auth ClueCon") == 2
        assert sum(c.startswith("event json") for c in fake.received) == 2
        assert fake.received.count(VALET_INFO) == 2
        assert "kumo_esl_reconnects_total 1" in metrics.render().decode()
        assert wait_for(
            lambda: sum(isinstance(e, Snapshot) and e.kind == "channels" for e in collect.seen) == 2
        )
    finally:
        conn.stop()
        fake.stop()


def test_a_drop_in_the_middle_of_an_event_reconnects_and_keeps_whole_events_only():
    recording = Recording("inbound-plain-bridge.log")
    total = sum(len(f) for f in recording.events)
    fake = FakeSwitch(recording, drop_after=total // 2).start()
    collect = Collect()
    conn = inbound(fake, Dispatcher([collect]))
    conn.start()
    try:
        assert wait_for(lambda: fake.connections >= 2 and conn.synced.is_set())
        assert all(e.headers.get("Event-Name") or isinstance(e, Snapshot) for e in collect.seen)
    finally:
        conn.stop()
        fake.stop()


def test_wrong_password_is_refused_and_retried_calmly(caplog):
    fake = FakeSwitch("inbound-plain-register.log", password="other").start()
    conn = inbound(fake, Dispatcher([]))
    conn.start()
    try:
        assert wait_for(lambda: fake.connections >= 3)
        assert not conn.connected
        warnings = [r for r in caplog.records if "not reachable" in r.getMessage()]
        assert len(warnings) == 1 and "refused" in warnings[0].getMessage()
    finally:
        conn.stop()
        fake.stop()


def test_connect_times_out_when_the_switch_never_greets():
    silent = gevent.server.StreamServer(("127.0.0.1", 0), lambda sock, _a: gevent.sleep(30))
    silent.start()
    conn = InboundConnection(silent.address[:2], "ClueCon", Metrics(), connect_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(NotConnected):
        conn._connect_once()
    assert time.monotonic() - started < 2
    silent.stop(timeout=0.1)


def test_a_command_without_reply_times_out_and_closes_the_connection():
    a, b = gevent.socket.socketpair()
    conn = Connection(a, command_timeout=0.2)
    conn.start()
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        conn.send("api status")
    assert time.monotonic() - started < 1.5
    assert not conn.connected
    with pytest.raises(NotConnected):
        conn.send("api status")
    b.close()


def test_api_on_the_live_connection_returns_the_reply_and_raises_when_down():
    fake = FakeSwitch(
        "inbound-plain-register.log",
        extra={"api sofia status": synthetic_api_response("profile internal RUNNING\n")},
    ).start()
    conn = inbound(fake, Dispatcher([]))
    with pytest.raises(ConnectionError):
        conn.api("api status")
    conn.start()
    try:
        assert wait_for(lambda: conn.synced.is_set())
        reply = conn.api("api status")
        assert reply.content_type == "api/response" and reply.data.startswith("UP 0 years")
        assert conn.api("bgapi status").reply_text.startswith("+OK Job-UUID")
        assert conn.api("api sofia status").body == "profile internal RUNNING\n"
    finally:
        conn.stop()
        fake.stop()


# -- defect 6 ----------------------------------------------------------------------------------------
def test_a_slow_handler_does_not_stall_the_others():
    fake = FakeSwitch("inbound-plain-pickup.log").start()
    slow = Collect(delay=0.5)
    fast = Collect()
    conn = inbound(fake, Dispatcher([slow, fast]))
    conn.start()
    try:
        assert wait_for(lambda: sum(e.name == "CHANNEL_HANGUP_COMPLETE" for e in fast.seen) == 8, timeout=3)
        assert len(slow.seen) < 10
    finally:
        conn.stop()
        fake.stop()


def test_a_failing_handler_keeps_running_and_others_see_everything(caplog):
    class Broken(Handler):
        events = ("*",)
        calls = 0

        def handle(self, event):
            Broken.calls += 1
            raise RuntimeError("bug")

    fine = Collect()
    dispatcher = Dispatcher([Broken(), fine])
    events = [Snapshot(SNAPSHOT, {"kind": str(i)}) for i in range(5)]
    dispatcher.start()
    for e in events:
        dispatcher.submit(e)
    assert dispatcher.drain()
    dispatcher.stop()
    assert fine.seen == events and Broken.calls >= 5
    assert sum("failed" in r.getMessage() for r in caplog.records) == 1
