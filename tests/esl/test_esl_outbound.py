"""The outbound socket server replaying the captured session (defects 4 and 5)."""

from __future__ import annotations

import gevent
from eslfake import ESL_DIR, FakeOutboundSwitch, recorded_event_uuids, transcript
from gevent.server import StreamServer

from fsctl.esl.outbound import Application, OutboundServer, OutboundSession


class RecordedCall(Application):
    """Does what the captured client did: answer, playback, uuid_getvar, hangup, then exit."""

    results: list = []

    def run(self) -> None:
        s = self.session
        completes: list[str] = []
        # Defect 4: an application's own CHANNEL_EXECUTE_COMPLETE handler must not block `execute`.
        s.on("CHANNEL_EXECUTE_COMPLETE", lambda e: completes.append(e.application))
        s.myevents()
        s.linger()
        answered = s.execute("answer")
        played = s.execute("playback", "tone_stream://%(400,200,440,480);loops=3")
        caller = s.getvar("sip_from_user")
        s.hangup()
        s.wait_hangup(5)
        gevent.sleep(0.01)
        RecordedCall.results.append(
            (s.uuid, answered.application, played.application_data, caller, completes, s.lingering)
        )


def serve(app) -> OutboundServer:
    uuids = iter(recorded_event_uuids())
    server = OutboundServer(("127.0.0.1", 0), app, uuid_factory=lambda: next(uuids))
    server.start()
    return server


def test_the_fake_switch_sends_exactly_the_captured_bytes():
    received = b"".join(data for direction, data in transcript() if direction == "<<<")
    assert received == (ESL_DIR / "outbound-session.log").read_bytes()


def test_outbound_session_replays_the_capture_command_for_command():
    RecordedCall.results = []
    server = serve(RecordedCall)
    try:
        fake = FakeOutboundSwitch(server.address)
        sent = fake.run()
        assert fake.mismatch is None, fake.mismatch
        expected = (ESL_DIR / "outbound-session.sent.txt").read_bytes()
        assert b"".join(sent) == expected
        (result,) = RecordedCall.results
        uuid, answered, played, caller, completes, lingering = result
        assert uuid == "1c9e848a-b736-453c-8944-5ee7781c0179"
        assert answered == "answer" and played.startswith("tone_stream://") and caller == "1001"
        assert completes[:2] == ["answer", "playback"] and lingering
        assert server.active == 0 and server.served == 1
    finally:
        server.stop()


def test_each_call_gets_its_own_application_and_greenlet():
    seen = []

    class Probe(Application):
        def run(self):
            seen.append((id(self), gevent.getcurrent()))
            self.session.myevents()
            raise RuntimeError("application bug")  # logged; the session still ends with exit

    server = serve(Probe)
    try:
        fakes = [FakeOutboundSwitch(server.address) for _ in range(3)]
        # Each fake waits for `myevents` then `linger`; Probe fails before linger: a mismatch, not a hang.
        jobs = [gevent.spawn(f.run, 5) for f in fakes]
        gevent.joinall(jobs, timeout=10)
        assert all(f.received[:2] == [b"connect\n\n", b"myevents\n\n"] for f in fakes)
        assert all(f.received[2] == b"exit\n\n" for f in fakes)
        assert len({a for a, _ in seen}) == 3 and len({g for _, g in seen}) == 3
    finally:
        server.stop()


def test_accept_is_event_driven_not_polled():
    # Defect 5: greenswitch 0.0.19 polls a non-blocking accept every 100 ms. Ours is gevent's
    # StreamServer: the event loop wakes on the listening socket (latency: `python -m bench.esl`).
    server = serve(Application)
    try:
        assert isinstance(server._server, StreamServer)
    finally:
        server.stop()


def test_a_call_that_hangs_up_mid_command_fails_the_waiter_instead_of_hanging():
    import gevent.socket

    from fsctl.esl.connection import SessionGone

    a, b = gevent.socket.socketpair()
    session = OutboundSession(a)
    session.start()
    waiter = gevent.spawn(session.execute, "playback", "x")
    gevent.sleep(0.01)
    # The switch drops the socket without completing the playback.
    b.recv(65536)
    b.close()
    waiter.join(2)
    assert isinstance(waiter.exception, SessionGone)
