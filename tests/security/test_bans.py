"""Brute-force bans replayed from the captured ESL streams and the captured sip_auth lookups."""

from __future__ import annotations

import dataclasses
import gzip

import pytest
from kumo_support import FIXTURES, read_fixture
from sqlalchemy import delete, func, select

from fsctl import models
from fsctl.esl.events import make_event
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.security import bans
from fsctl.security.auth_events import AuthEventHandler, wire
from fsctl.security.settings import SecuritySettings, parse_proxies, security_settings_from_env
from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

CAPTURE_TIME = 1795616919  # Event-Date-Timestamp of the captured failure (2026-11-25 14:28:39 UTC)


def captured_events(encoding: str) -> list[dict[str, str]]:
    """Header dicts of every event in inbound-<encoding>-register_bad_password.log.gz, in order."""
    path = FIXTURES / "esl" / f"inbound-{encoding}-register_bad_password.log.gz"
    frames = FrameReader().feed(gzip.open(path).read())
    events = [decode_event(f) for f in frames]
    return [headers for headers, _body in (e for e in events if e is not None)]


def sofia(events: list[dict[str, str]], subclass: str) -> list[dict[str, str]]:
    return [e for e in events if e.get("Event-Subclass") == subclass]


def synthetic_failure(template: dict[str, str], sequence: int, **changes: str) -> dict[str, str]:
    """SYNTHETIC: a captured register_attempt with a new Event-Sequence (and other fields changed)."""
    event = dict(template, **{"Event-Sequence": str(sequence)})
    event.update(changes)
    return event


@pytest.fixture
def handler(session_factory):
    return AuthEventHandler(session_factory, SecuritySettings())


def count(session_factory, model) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("encoding", ["plain", "json"])
def test_captured_wrong_password_counts_once_and_successes_are_trusted(handler, session_factory, encoding):
    events = captured_events(encoding)
    failure_at = events.index(sofia(events, "sofia::register_failure")[0])
    for event in events[: failure_at + 1]:
        handler.handle(event)
    with session_factory() as session:
        failures = session.scalars(select(models.AuthFailure)).all()
        # register_attempt FORBIDDEN + register_failure are one failure.
        assert [(f.ip, f.domain, f.username, f.at, f.trusted) for f in failures] == [
            ("127.0.0.1", "acme.example", "1001", CAPTURE_TIME, False)
        ]
    for event in events[failure_at + 1 :]:
        handler.handle(event)
    handler.flush()  # what the dispatcher does within TRUST_FLUSH_SECONDS
    with session_factory() as session:
        trusted = session.execute(select(models.TrustedSource.domain, models.TrustedSource.username)).all()
        # 1001 then registered with the right password: trusted, and its failure is forgotten.
        assert session.scalars(select(models.AuthFailure)).all() == []
    assert sorted(trusted) == [
        ("acme.example", "1001"),
        ("acme.example", "1002"),
        ("acme.example", "1003"),
        ("beta.example", "1001"),
        ("beta.example", "1002"),
    ]


def test_renewed_attempts_of_invite_auth_are_not_failures(session_factory):
    """Every INVITE digest auth fires register_attempt RENEWED (fixtures README): never counted."""
    attempts = [
        e for e in sofia(captured_events("json"), "sofia::register_attempt") if e["auth-result"] == "RENEWED"
    ]
    assert len(attempts) == 5
    AuthEventHandler(session_factory).handle_batch(attempts * 3)
    assert count(session_factory, models.AuthFailure) == 0


def test_typed_events_are_accepted_like_header_mappings(session_factory):
    events = [make_event(h) for h in captured_events("plain")]
    handler = AuthEventHandler(session_factory)
    handler.handle_batch(events[:11])
    assert count(session_factory, models.AuthFailure) == 1
    handler.handle_batch(events[11:])
    handler.flush()
    assert count(session_factory, models.AuthFailure) == 0
    assert count(session_factory, models.TrustedSource) == 5


def test_trust_marks_are_held_and_written_together(session_factory):
    """Successful registrations are trusted in one transaction per TRUST_FLUSH_SECONDS (a commit per
    phone was most of the event socket's cost per REGISTER), before any later failure is counted, and
    a held mark survives a failed write."""
    clock = [100.0]
    handler = AuthEventHandler(session_factory, trust_flush_seconds=1.0, clock=lambda: clock[0])
    registered = sofia(captured_events("plain"), "sofia::register")
    handler.handle_batch(registered[:2])
    assert count(session_factory, models.TrustedSource) == 0
    assert handler.flush_due() == 101.0
    clock[0] = 100.5
    handler.handle_batch(registered[2:3])
    assert count(session_factory, models.TrustedSource) == 0 and handler.flush_due() == 101.0
    clock[0] = 101.0
    handler.handle_batch(registered[3:])  # due: everything held so far is written now
    assert count(session_factory, models.TrustedSource) == 5 and handler.flush_due() is None
    # Within the refresh interval a pair is not written again.
    handler.handle_batch(registered)
    assert handler.flush_due() is None

    # A pair trusted and then failing: its success is written first, so the failure stays counted.
    fresh = AuthEventHandler(session_factory, clock=lambda: clock[0])
    with session_factory() as session:
        session.execute(delete(models.TrustedSource))
        session.commit()
    fresh.handle_batch(registered)
    fresh.handle_batch(forbidden_attempts(1, start=60_000, username="1002", **{"from-user": "1002"}))
    assert fresh.flush_due() is None and count(session_factory, models.TrustedSource) == 5
    assert count(session_factory, models.AuthFailure) == 1

    # A write that fails keeps the marks for the next flush.
    broken = AuthEventHandler(lambda: (_ for _ in ()).throw(OSError("database down")), clock=lambda: clock[0])
    broken.handle_batch(registered[:1])
    with pytest.raises(OSError):
        broken.flush()
    assert broken.flush_due() is not None
    broken.session_factory = session_factory
    broken.flush()
    assert broken.flush_due() is None


def test_the_same_event_from_two_instances_is_stored_once(session_factory):
    events = captured_events("json")
    failing = events[: events.index(sofia(events, "sofia::register_failure")[0]) + 1]
    AuthEventHandler(session_factory).handle_batch(failing)
    AuthEventHandler(session_factory).handle_batch(failing)
    assert count(session_factory, models.AuthFailure) == 1


def test_register_failure_alone_is_counted(session_factory):
    """A listener that only sees register_failure (no attempt before it) still counts the failure."""
    failure = sofia(captured_events("plain"), "sofia::register_failure")[0]
    AuthEventHandler(session_factory).handle(failure)
    with session_factory() as session:
        row = session.scalars(select(models.AuthFailure)).one()
    assert (row.ip, row.domain, row.username, row.kind) == ("127.0.0.1", "acme.example", "1001", "REGISTER")


def forbidden_attempts(n: int, start: int = 10_000, **changes: str) -> list[dict[str, str]]:
    attempt = next(
        e
        for e in sofia(captured_events("plain"), "sofia::register_attempt")
        if e["auth-result"] == "FORBIDDEN"
    )
    return [synthetic_failure(attempt, start + i, **changes) for i in range(n)]


def test_threshold_bans_the_pair_and_the_ip_for_the_ban_period(session_factory):
    settings = SecuritySettings(auth_fail_threshold=4, auth_fail_window=300, ban_seconds=600)
    handler = AuthEventHandler(session_factory, settings)
    handler.handle_batch(forbidden_attempts(3))
    with session_factory() as session:
        assert bans.list_bans(session, now=CAPTURE_TIME) == []
    handler.handle_batch(forbidden_attempts(1, start=20_000))
    with session_factory() as session:
        active = bans.list_bans(session, now=CAPTURE_TIME + 1)
        assert {(b.ip, b.domain, b.username) for b in active} == {
            ("127.0.0.1", "acme.example", "1001"),
            ("127.0.0.1", "", ""),
        }
        assert all(b.until.timestamp() == CAPTURE_TIME + 600 for b in active)
        assert bans.is_refused(session, "127.0.0.1", "acme.example", "1001", now=CAPTURE_TIME + 599)
        # Expiry is a comparison with now: no job has to run.
        assert not bans.is_refused(session, "127.0.0.1", "acme.example", "1001", now=CAPTURE_TIME + 600)
        events = session.scalars(select(models.SecurityEvent.kind)).all()
    assert events == ["ban", "ban"]


def test_failures_outside_the_window_do_not_add_up(session_factory):
    settings = SecuritySettings(auth_fail_threshold=4, auth_fail_window=300)
    handler = AuthEventHandler(session_factory, settings)
    for i in range(4):
        stamp = str((CAPTURE_TIME + i * 200) * 1_000_000)
        handler.handle_batch(forbidden_attempts(1, start=30_000 + i, **{"Event-Date-Timestamp": stamp}))
    with session_factory() as session:
        assert bans.list_bans(session, now=CAPTURE_TIME + 700) == []


def test_a_trusted_source_is_not_locked_out_by_someone_elses_failures(session_factory):
    handler = AuthEventHandler(session_factory)
    registered = sofia(captured_events("plain"), "sofia::register")
    handler.handle_batch(registered)  # 1001-1003@acme.example, 1001-1002@beta.example from 127.0.0.1
    # A scanner behind the same address guesses passwords of an unknown user: the IP gets banned.
    handler.handle_batch(forbidden_attempts(5, start=40_000, username="9999", **{"from-user": "9999"}))
    with session_factory() as session:
        assert {(b.domain, b.username) for b in bans.list_bans(session, now=CAPTURE_TIME + 1)} == {
            ("", ""),
            ("acme.example", "9999"),
        }
        assert not bans.is_refused(session, "127.0.0.1", "acme.example", "1002", now=CAPTURE_TIME + 1)
        assert bans.is_refused(session, "127.0.0.1", "acme.example", "4444", now=CAPTURE_TIME + 1)
        assert bans.is_refused(session, "127.0.0.1", "acme.example", "9999", now=CAPTURE_TIME + 1)


def test_a_trusted_pairs_own_failures_ban_only_that_pair(session_factory):
    handler = AuthEventHandler(session_factory)
    handler.handle_batch(sofia(captured_events("plain"), "sofia::register"))
    handler.handle_batch(forbidden_attempts(6, start=50_000, username="1002", **{"from-user": "1002"}))
    with session_factory() as session:
        active = bans.list_bans(session, now=CAPTURE_TIME + 1)
        assert [(b.ip, b.domain, b.username) for b in active] == [("127.0.0.1", "acme.example", "1002")]
        assert not bans.is_refused(session, "127.0.0.1", "acme.example", "1003", now=CAPTURE_TIME + 1)


def test_lift_and_purge(session_factory):
    handler = AuthEventHandler(session_factory, SecuritySettings(ban_seconds=60))
    handler.handle_batch(forbidden_attempts(4))
    with session_factory() as session:
        assert len(bans.list_bans(session, now=CAPTURE_TIME)) == 2
        assert bans.lift_bans(session, "operator@test", ip="127.0.0.1") == 2
        assert bans.list_bans(session, now=CAPTURE_TIME, include_expired=True) == []
        assert not bans.is_refused(session, "127.0.0.1", "acme.example", "1001", now=CAPTURE_TIME)
        kinds = session.scalars(select(models.SecurityEvent.kind).order_by(models.SecurityEvent.id)).all()
        assert kinds == ["ban", "ban", "ban_lifted", "ban_lifted"]
    # Lifting forgot the failures: one more does not ban again at once.
    handler.handle_batch(forbidden_attempts(4, start=60_000))
    settings = SecuritySettings(keep_seconds=3600)
    with session_factory() as session:
        assert bans.purge(session, settings, now=CAPTURE_TIME + 100) == (0, 0)
        assert bans.purge(session, settings, now=CAPTURE_TIME + 3601 + 60) == (4, 2)
        assert bans.list_bans(session, include_expired=True, now=0) == []


def test_wire_adds_the_handler_to_a_dispatcher(session_factory):
    from fsctl.esl.dispatch import Dispatcher

    dispatcher = Dispatcher()
    handler = wire(dispatcher, session_factory)
    assert dispatcher.handlers == [handler]
    assert {"sofia::register_attempt", "sofia::register_failure", "sofia::register"} <= dispatcher.subscribed
    dispatcher.run_inline(make_event(h) for h in captured_events("json"))
    assert count(session_factory, models.TrustedSource) == 5


def test_nft_script_lists_ip_bans_with_their_remaining_time():
    import datetime as dt
    import time

    now = time.time()
    when = dt.datetime.fromtimestamp(now + 120, dt.UTC)
    views = [
        bans.BanView(1, "198.51.100.7", "", "", dt.datetime.now(dt.UTC), when, 5, "", True),
        bans.BanView(2, "2001:db8::1", "", "", dt.datetime.now(dt.UTC), when, 5, "", True),
        bans.BanView(3, "198.51.100.8", "acme.example", "101", dt.datetime.now(dt.UTC), when, 5, "", True),
    ]
    script = bans.nft_script(views)
    assert "add element inet kumo sip_banned { 198.51.100.7 timeout 1" in script
    assert "add element inet kumo sip_banned6 { 2001:db8::1 timeout" in script
    assert "198.51.100.8" not in script  # pair bans stay in the directory
    assert script.index("flush set inet kumo sip_banned") < script.index("add element")


# -- the directory side ------------------------------------------------------------------------------------


class CountingStore(LookupStore):
    """SYNTHETIC wrapper: records every SQL statement the directory runs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements: list[str] = []

    def fetch_one(self, sql, params=()):
        self.statements.append(sql)
        return super().fetch_one(sql, params)


@pytest.fixture
def directory(settings, engine):
    store = CountingStore(engine=engine)
    yield ServiceApp(settings, store), store
    store.reset()


def auth_body(
    user: str = "101", ip: str = "127.0.0.1", name: str = "directory-sip_auth-register.txt"
) -> bytes:
    body = read_fixture(f"xml_curl/{name}").replace(b"acme.example", b"acme.kumo.test")
    body = body.replace(b"&user=1001&", f"&user={user}&".encode())
    return body.replace(b"&ip=127.0.0.1", f"&ip={ip}".encode())


def lookup(app: ServiceApp, body: bytes) -> bytes:
    response = app.handle("POST", "/fs/xml", {}, body)
    assert response.status == 200
    return response.body


def ban(session_factory, ip: str, domain: str = "", username: str = "", until_offset: int = 600) -> None:
    import time

    now = int(time.time())
    with session_factory() as session:
        session.add(
            models.Ban(
                ip=ip,
                domain=domain,
                username=username,
                created_at=now,
                until=now + until_offset,
                failures=4,
                reason="test",
            )
        )
        session.commit()


@pytest.mark.parametrize("name", ["directory-sip_auth-register.txt", "directory-sip_auth-invite.txt"])
def test_a_banned_ip_gets_not_found_on_sip_auth_only(directory, make_tenant, session_factory, name):
    app, store = directory
    make_tenant()
    assert lookup(app, auth_body(name=name)) != NOT_FOUND
    ban(session_factory, "127.0.0.1")
    store.statements.clear()
    assert lookup(app, auth_body(name=name)) == NOT_FOUND
    assert len(store.statements) == 1, "the ban check is folded into the one user query"
    assert lookup(app, auth_body(name=name, ip="192.0.2.50")) != NOT_FOUND
    # Lookups that are not digest authentication (bridge user/..., voicemail) are not from the source.
    user_call = read_fixture("xml_curl/directory-user_call.txt").replace(b"acme.example", b"acme.kumo.test")
    assert lookup(app, user_call.replace(b"&user=1002&", b"&user=102&")) != NOT_FOUND


def test_a_pair_ban_refuses_only_that_user_and_an_expired_ban_nobody(directory, make_tenant, session_factory):
    app, _ = directory
    make_tenant()
    ban(session_factory, "127.0.0.1", "acme.kumo.test", "101")
    ban(session_factory, "192.0.2.9", until_offset=-1)
    assert lookup(app, auth_body("101")) == NOT_FOUND
    assert lookup(app, auth_body("102")) != NOT_FOUND
    assert lookup(app, auth_body("101", ip="192.0.2.9")) != NOT_FOUND


def test_an_ip_ban_spares_users_trusted_from_that_ip(directory, make_tenant, session_factory):
    app, _ = directory
    make_tenant()
    ban(session_factory, "127.0.0.1")
    with session_factory() as session:
        bans.mark_trusted(session, "127.0.0.1", "acme.kumo.test", "102")
    assert lookup(app, auth_body("101")) == NOT_FOUND
    assert lookup(app, auth_body("102")) != NOT_FOUND


def test_unknown_user_and_known_user_run_the_same_single_query(directory, make_tenant):
    """Scanners: an unknown user costs exactly the work of a known one (one indexed query, same SQL).

    The switch then answers both with 403 Forbidden: sofia_reg_parse_auth returns AUTH_FORBIDDEN for
    "Can't find user" and for a digest mismatch alike, and sofia_reg_handle_register_token answers
    SIP_403_FORBIDDEN for AUTH_FORBIDDEN whatever the cause, so a wrong password and an unknown user look
    the same on the wire.
    """
    app, store = directory
    make_tenant()
    runs = {}
    for user in ("101", "999"):
        store.statements.clear()
        lookup(app, auth_body(user))
        runs[user] = list(store.statements)
    assert runs["101"] == runs["999"] and len(runs["101"]) == 1
    # An unknown domain is the same one query too (no negative cache: a tenant created a moment ago
    # by another process must be found on the very next lookup).
    store.statements.clear()
    lookup(app, auth_body("101").replace(b"acme.kumo.test", b"nobody.kumo.test"))
    assert store.statements == runs["101"]


@pytest.mark.parametrize(
    "domain", [b"127.0.0.1", b"%5B2001%3Adb8%3A%3A1%5D", b"192.0.2.1%3A5060", b"localhost"]
)
def test_ip_literal_domains_are_refused_before_any_query(directory, make_tenant, domain):
    app, store = directory
    make_tenant()
    store.statements.clear()
    body = auth_body().replace(b"domain=acme.kumo.test", b"domain=" + domain)
    body = body.replace(b"key_value=acme.kumo.test", b"key_value=" + domain)
    assert lookup(app, body) == NOT_FOUND
    assert store.statements == []


def test_failure_dataclass_is_frozen():
    failure = bans.Failure("192.0.2.1", "acme.example", "1001", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        failure.ip = "x"  # type: ignore[misc]


def test_the_service_dispatcher_counts_failures(engine):
    from fsctl.esl.wiring import build_dispatcher

    dispatcher = build_dispatcher(engine)
    assert any(isinstance(h, AuthEventHandler) for h in dispatcher.handlers)
    assert {"sofia::register_attempt", "sofia::register_failure", "sofia::register"} <= dispatcher.subscribed


def test_a_banned_source_hammering_on_adds_no_rows(session_factory):
    handler = AuthEventHandler(session_factory, SecuritySettings(auth_fail_threshold=4))
    handler.handle_batch(forbidden_attempts(4))
    handler.handle_batch(forbidden_attempts(200, start=70_000))
    assert count(session_factory, models.AuthFailure) == 4
    # ...but a user trusted from that address still has its own failures counted (pair bans only).
    handler.handle_batch(sofia(captured_events("plain"), "sofia::register"))  # 1001's own 4 are forgotten
    handler.handle_batch(forbidden_attempts(2, start=80_000, username="1003", **{"from-user": "1003"}))
    with session_factory() as session:
        rows = session.execute(select(models.AuthFailure.username, models.AuthFailure.trusted)).all()
    assert rows == [("1003", True), ("1003", True)]


def test_trusting_a_pair_again_keeps_its_first_sighting_and_forgets_its_failures(session_factory):
    """mark_trusted is one upsert: a second success moves last_seen only, and clears the pair's
    failures (not other pairs')."""
    failures = [
        bans.Failure(
            ip="198.51.100.7", domain="acme.kumo.test", username=user, at=100 + n, core_uuid="c", sequence=n
        )
        for n, user in enumerate(("101", "101", "102"))
    ]
    with session_factory() as session:
        bans.record_failures(session, failures, SecuritySettings())
        session.commit()
        bans.mark_trusted(session, "198.51.100.7", "acme.kumo.test", "101", now=1000)
        bans.mark_trusted(session, "198.51.100.7", "acme.kumo.test", "101", now=2000)
        rows = session.execute(select(models.TrustedSource.first_seen, models.TrustedSource.last_seen)).all()
        left = session.scalars(select(models.AuthFailure.username)).all()
    assert [tuple(r) for r in rows] == [(1000, 2000)]
    assert left == ["102"]


def test_a_registration_authenticated_in_another_realm_is_removed_at_once(session_factory):
    """SYNTHETIC from the captured sofia::register of 1001@acme.example: a crafted client that answered
    the challenge in its own realm (beta.example) for To: 1001@acme.example. sofia stored it as acme's
    1001 (a user it held cached was never looked up); kumo removes that registration over the event
    socket, trusts nothing and counts a failure of the account used."""
    captured = next(
        e
        for e in sofia(captured_events("json"), "sofia::register")
        if e.get("from-host") == "acme.example" and e.get("from-user") == "1001"
    )
    assert captured["realm"] == "acme.example"  # an honest phone authenticates in the To's domain
    sent: list[str] = []
    nodes: list[str] = []

    def send_api(command: str, node: str) -> None:
        sent.append(command)
        nodes.append(node)

    handler = AuthEventHandler(session_factory, SecuritySettings(), send_api=send_api)
    handler.handle(captured)
    handler.flush()
    assert sent == [] and count(session_factory, models.TrustedSource) == 1

    crafted = dict(captured, realm="beta.example", **{"Event-Sequence": "999999"})
    handler.handle(crafted)
    assert sent == [f"api sofia profile {captured['profile-name']} flush_inbound_reg {captured['call-id']}"]
    assert nodes == [captured["FreeSWITCH-Switchname"]]  # the node that holds the registration
    with session_factory() as session:
        failures = session.execute(select(models.AuthFailure.domain, models.AuthFailure.username)).all()
        trusted = session.execute(select(models.TrustedSource.domain)).scalars().all()
    assert failures == [("beta.example", captured["username"])]
    assert trusted == ["acme.example"]

    # A Call-ID a command line could be split on is never sent; the failure still counts.
    handler.handle(dict(crafted, **{"call-id": "x y\napi shutdown", "Event-Sequence": "1000000"}))
    assert len(sent) == 1


def test_failures_and_successes_reported_from_a_trusted_proxy_ban_and_trust_no_one(session_factory):
    """Behind Kamailio sofia's network-ip is Kamailio's: counting it would ban everyone behind it."""
    settings = SecuritySettings(
        auth_fail_threshold=2, trusted_proxies=parse_proxies("127.0.0.0/30, 192.0.2.7")
    )
    handler = AuthEventHandler(session_factory, settings)
    handler.handle_batch(forbidden_attempts(5))  # all from 127.0.0.1, inside 127.0.0.0/30
    handler.handle_batch(captured_events("plain"))  # successful registrations from 127.0.0.1 too
    with session_factory() as session:
        assert bans.list_bans(session, now=CAPTURE_TIME + 1) == []
    assert count(session_factory, models.AuthFailure) == 0
    assert count(session_factory, models.TrustedSource) == 0
    assert settings.is_proxy("192.0.2.7") and not settings.is_proxy("192.0.2.8")
    assert not settings.is_proxy("not-an-address")


def test_trusted_proxies_come_from_the_environment_and_a_bad_one_is_named():
    settings = security_settings_from_env({"FSCTL_TRUSTED_PROXIES": "10.0.0.5,2001:db8::/64"})
    assert settings.is_proxy("10.0.0.5") and settings.is_proxy("2001:db8::1")
    assert security_settings_from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match="FSCTL_TRUSTED_PROXIES: '10.0.0.300'"):
        security_settings_from_env({"FSCTL_TRUSTED_PROXIES": "10.0.0.300"})
