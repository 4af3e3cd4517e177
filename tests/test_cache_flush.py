"""Cacheable directory users: every committed change flushes exactly the users it can affect from
the switch's cache, over the event socket (fsctl.esl.cache_flush), and nothing is served cacheable
while the event socket is down."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import gevent
from kumo_support import tenant_doc

from fsctl import db, models
from fsctl.config import Settings
from fsctl.esl.cache_flush import FLUSH_ALL, FLUSH_ALL_NOW, DirectoryCacheFlusher, flush_user_command
from fsctl.esl.inbound import InboundConnection
from fsctl.metrics import Metrics
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

sys.path.insert(0, str(Path(__file__).parent / "esl"))
from eslfake import FakeSwitch  # noqa: E402

ACME = "acme.kumo.test"
BETA = "beta.kumo.test"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def beta_doc() -> dict:
    doc = tenant_doc(domain=BETA, numbers=[], ring_groups=[], park=None)
    for user in doc["users"]:
        user.update(did=None, caller_id=None)
        user.get("forward", {}).clear()
    return doc


def flushes_of(commands: list[str]) -> set[str]:
    return set(commands)


def test_a_changed_user_is_flushed_for_its_tenant_only_and_again_after_the_race_window(
    engine, session_factory, make_tenant
):
    make_tenant()
    make_tenant(**beta_doc())
    clock = Clock()
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=clock)
    flusher.start()
    flusher.stop()
    assert flusher.check_once() == [] and sent == []  # nothing changed since the baseline
    doc = tenant_doc()
    acme_users = [u["extension"] for u in doc["users"]]
    doc["users"][0]["password"] = "New-password-1"
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    commands = flusher.check_once()
    assert flushes_of(commands) == {flush_user_command(ext, ACME) for ext in acme_users}
    assert not any(BETA in c for c in commands) and FLUSH_ALL not in commands
    assert flusher.check_once() == []
    # A lookup answered just before the commit may reach the switch after the first flush.
    clock.now += 2.5
    assert flushes_of(flusher.check_once()) == flushes_of(commands)
    assert flusher.check_once() == []


def test_deleted_users_and_a_renamed_domain_are_flushed_under_their_old_names(
    engine, session_factory, make_tenant
):
    make_tenant()
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    flusher.start()
    flusher.stop()
    doc = tenant_doc()
    gone = doc["users"][-1]["extension"]
    with session_factory() as session:
        tenant = session.query(models.Tenant).filter_by(domain=ACME).one()
        user = session.query(models.User).filter_by(tenant_id=tenant.id, extension=gone).one()
        session.delete(user)
        session.commit()
    assert flush_user_command(gone, ACME) in flusher.check_once()
    with session_factory() as session:
        tenant = session.query(models.Tenant).filter_by(domain=ACME).one()
        tenant.domain = "renamed.kumo.test"
        session.commit()
    commands = flusher.check_once()
    first = doc["users"][0]["extension"]
    assert {flush_user_command(first, ACME), flush_user_command(first, "renamed.kumo.test")} <= set(commands)
    assert flush_user_command(gone, ACME) not in commands  # already flushed, no longer a user


def test_nothing_is_lost_while_the_switch_is_away(engine, session_factory, make_tenant):
    make_tenant()
    sent: list[str] = []
    switch_up = False

    def send_api(command: str) -> None:
        if not switch_up:
            raise ConnectionError("event socket not connected")
        sent.append(command)

    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), send_api, clock=Clock())
    flusher.start()
    flusher.stop()
    doc = tenant_doc()
    doc["users"][0]["password"] = "New-password-1"
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    for _ in range(2):
        try:
            flusher.check_once()
        except ConnectionError:
            pass
    assert sent == []
    switch_up = True
    assert flush_user_command(doc["users"][0]["extension"], ACME) in flusher.check_once()


def test_many_users_changed_at_once_flush_everything_in_one_command(engine, session_factory, make_tenant):
    make_tenant()
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    flusher.start()
    flusher.stop()
    doc = beta_doc()
    doc["users"] = [
        {"extension": str(2000 + i), "name": f"user {i}", "password": f"Str0ng-{i}-password"}
        for i in range(510)
    ]
    make_tenant(**doc)
    assert flusher.check_once() == [FLUSH_ALL]


def test_through_the_event_socket_a_saved_change_sends_the_flush_of_exactly_its_users(
    engine, session_factory, make_tenant
):
    """The ESL fake (captured greeting and replies; the flush replies are synthetic "+OK"): after the
    connection everything is flushed once, then one saved change flushes its tenant's users."""
    make_tenant()
    make_tenant(**beta_doc())
    fake = FakeSwitch("inbound-json-register.log", events=[]).start()
    metrics = Metrics()
    connection = InboundConnection(fake.address, "ClueCon", metrics, resync=())
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), connection.api, interval=0.02)
    connection.on_connect = flusher.on_connect
    flusher.start()
    connection.start()
    try:
        with gevent.Timeout(5):
            while FLUSH_ALL not in fake.received:
                gevent.sleep(0.01)
        doc = beta_doc()
        doc["users"][1]["name"] = "renamed"
        with db.session_scope(session_factory) as session:
            tenant_file().apply(session, doc)
        expected = {flush_user_command(u["extension"], BETA) for u in doc["users"]}
        with gevent.Timeout(5):
            while not expected <= set(fake.received):
                gevent.sleep(0.01)
        flushes = [c for c in fake.received if "xml_flush_cache" in c]
        assert flushes[0] == FLUSH_ALL and set(flushes[1:]) == expected
        assert not any(ACME in c for c in flushes)
    finally:
        flusher.stop()
        connection.stop()
        fake.stop()


def test_users_are_cacheable_only_while_the_event_socket_can_flush_them(settings, engine, make_tenant):
    from test_directory import captured, lookup, user_element

    make_tenant()
    metrics = Metrics()
    # The tests' settings (open lookups, a private instance folder): Settings() alone would read the
    # credentials generated in the repository's instance/ and answer 401.
    settings = dataclasses.replace(settings, directory_cache_ms=60000)
    app = ServiceApp(settings, LookupStore(engine=engine), metrics)
    body = captured("directory-user_call.txt")
    # Off by default: a crafted client could use a cached user across tenants (see fsctl.config.Settings).
    assert Settings(xml_curl_auth="off").directory_cache_ms == 0
    assert user_element(lookup(app, body)).get("cacheable") is None  # socket down: not cacheable
    metrics.set_esl_connected(True)
    assert user_element(lookup(app, body)).get("cacheable") == "60000"
    # Another spelling of the domain would be cached under a name the flush does not use.
    shouting = captured("directory-user_call.txt", domain="ACME.Kumo.Test")
    assert user_element(lookup(app, shouting)).get("cacheable") is None
    metrics.set_esl_connected(False)
    assert user_element(lookup(app, body)).get("cacheable") is None


def test_a_user_that_failed_a_digest_is_flushed_so_its_bans_are_enforced_again(
    engine, session_factory, make_tenant
):
    """Bans are enforced by the directory refusing the banned source's lookups; a cached user is not
    looked up. Each failed authentication (recorded from the switch's events) flushes that user, so
    the next attempt asks kumo; only an existing user of ours is flushed."""
    from fsctl.security.bans import Failure, record_failures
    from fsctl.security.settings import SecuritySettings

    make_tenant()
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    flusher.start()
    flusher.stop()
    failures = [
        Failure(ip="198.51.100.7", domain=ACME, username="101", at=1_795_600_000, core_uuid="c", sequence=1),
        Failure(ip="198.51.100.7", domain=ACME, username="101", at=1_795_600_001, core_uuid="c", sequence=2),
        Failure(
            ip="198.51.100.7", domain=ACME, username="1 2\\n", at=1_795_600_002, core_uuid="c", sequence=3
        ),
        Failure(ip="198.51.100.7", domain="", username="", at=1_795_600_003, core_uuid="c", sequence=4),
        # A scanner's guesses: no such user, no such tenant.
        Failure(ip="198.51.100.7", domain=ACME, username="9999", at=1_795_600_004, core_uuid="c", sequence=5),
        Failure(
            ip="198.51.100.7", domain="x.example", username="101", at=1_795_600_005, core_uuid="c", sequence=6
        ),
    ]
    with session_factory() as session:
        record_failures(session, failures, SecuritySettings())
        session.commit()
    assert flusher.check_once() == [flush_user_command("101", ACME)]
    assert flusher.check_once() == []


def test_a_new_ban_evicts_the_banned_user_before_and_after_it_is_committed(
    engine, session_factory, make_tenant
):
    """Without waiting for the failure loop's next tick: whoever sees the ban row sees it enforced,
    and a lookup that cached the user again before the commit is evicted once more after it."""
    from sqlalchemy import select

    from fsctl.security.bans import Failure, record_failures
    from fsctl.security.settings import SecuritySettings

    make_tenant()
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), lambda _command: None, clock=Clock())
    seen: list[tuple[list[str], int]] = []

    def on_ban(subjects):
        # What the switch is told, and how many bans another connection sees at that moment.
        with session_factory() as other:
            visible = len(other.scalars(select(models.Ban)).all())
        seen.append((flusher.evict_banned(subjects), visible))

    settings = SecuritySettings(auth_fail_threshold=3)
    guesses = [
        Failure(
            ip="198.51.100.7", domain=ACME, username="101", at=1_795_600_000 + n, core_uuid="c", sequence=n
        )
        for n in range(3)
    ]
    with session_factory() as session:
        bans = record_failures(session, guesses, settings, on_ban)
    assert [(b.domain, b.username) for b in bans] == [(ACME, "101"), ("", "")]
    # The IP-wide ban lets no cached user in from there: everything is evicted, in the foreground.
    assert seen == [([FLUSH_ALL_NOW], 0), ([FLUSH_ALL_NOW], 2)]


def test_a_ban_of_one_user_evicts_that_user_only_and_attacker_text_never_reaches_a_command(engine):
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    assert flusher.evict_banned([("198.51.100.7", ACME, "101")]) == [f"api xml_flush_cache id 101 {ACME}"]
    assert flusher.evict_banned([("198.51.100.7", ACME, "1 2\nexit"), ("198.51.100.7", "a b", "101")]) == []
    assert sent == [f"api xml_flush_cache id 101 {ACME}"]

    def unreachable(_command: str) -> None:
        raise ConnectionError("event socket down")

    # The ban stands without the switch; the failure loop flushes on its next tick.
    assert DirectoryCacheFlusher(LookupStore(engine=engine), unreachable).evict_banned(
        [("198.51.100.7", ACME, "101")]
    ) == [f"api xml_flush_cache id 101 {ACME}"]


def test_two_changes_that_leave_the_sum_of_versions_unchanged_are_both_flushed(
    engine, session_factory, make_tenant
):
    """Each tenant's own version is compared: one tenant moving on while another goes back (a
    tenant restored from a backup) keeps the count and the sum of versions, yet both changed."""
    from sqlalchemy import text

    make_tenant()
    make_tenant(**beta_doc())
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tenants SET config_version = config_version + 5 WHERE domain = :d"), {"d": BETA}
        )
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    flusher.start()
    flusher.stop()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tenants SET config_version = config_version + 1 WHERE domain = :d"), {"d": ACME}
        )
        conn.execute(
            text("UPDATE tenants SET config_version = config_version - 1 WHERE domain = :d"), {"d": BETA}
        )
    commands = flusher.check_once()
    assert {flush_user_command(u["extension"], ACME) for u in tenant_doc()["users"]} <= set(commands)
    assert {flush_user_command(u["extension"], BETA) for u in beta_doc()["users"]} <= set(commands)


def test_a_graceful_stop_flushes_every_cached_user(engine, make_tenant):
    make_tenant()
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append, clock=Clock())
    assert flusher.flush_all_on_stop() and sent == [FLUSH_ALL_NOW]

    def unreachable(_command: str) -> None:
        raise ConnectionError("event socket not connected")

    # The switch away: the stop goes on, the cache time bounds what stays cached.
    assert not DirectoryCacheFlusher(LookupStore(engine=engine), unreachable).flush_all_on_stop()
