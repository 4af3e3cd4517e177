"""Call queues (ACD): the tenant file's `call_queues` (apply / export, coded errors), the plan of a call
to a queue (position, music, mod_callcenter, overflow), the agents' login codes, the callcenter.conf kumo
serves the switch, the sync job's commands, the statement's held items."""

from __future__ import annotations

import pytest
import yaml
from kumo_support import tenant_doc
from lxml import etree
from planners import plan_from_carrier, plan_from_phone
from routing.factories import at

from fsctl import db, models
from fsctl.billing.subscriptions import held_now
from fsctl.queues.agents import set_agent_login
from fsctl.queues.switch import CallcenterConfig, QueueSync, read_state, render_callcenter_conf
from fsctl.snapshots import session_rows
from fsctl.tenant_file import ConfigError
from fsctl.wiring import billable_items, snapshots, tenant_file
from fsctl.xml.dialplan import render
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

NOW = at("2026-12-07 10:00")
QUEUES = [
    {
        "number": "600",
        "name": "サポート",
        "agents": ["101", "103"],
        "strategy": "ring_all",
        "max_wait_seconds": 60,
        "overflow": {"voicemail": "101"},
    },
    {"number": "601", "agents": ["103"]},
]
USERS = [
    *tenant_doc()["users"],
    {"extension": "103", "name": "Agent 103", "password": "Str0ng-103-pass"},
]


def _doc(**overrides):
    return tenant_doc(**{"users": USERS, "call_queues": QUEUES, **overrides})


def _snap(session):
    return snapshots().by_domain(session_rows(session), "acme.kumo.test")


def _apps(plan) -> list[tuple[str, str]]:
    return [(a.app, a.data) for a in plan.actions]


def test_apply_stores_queues_and_export_writes_them_back(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
        assert snap.queues["600"].agents == ("101", "103")
        assert snap.queues["600"].strategy == "ring_all" and snap.queues["600"].max_wait_seconds == 60
        assert snap.queues["600"].overflow is not None and snap.queues["600"].overflow.kind == "voicemail"
        assert snap.queues["601"].strategy == "longest_idle" and snap.queues["601"].overflow is None
        tenant = db.tenant_by_domain(session, "acme.kumo.test")
        exported = tenant_file().export(tenant)
        version = tenant.config_version
    assert exported["call_queues"][0] == {
        "number": "600",
        "name": "サポート",
        "agents": ["101", "103"],
        "strategy": "ring_all",
        "max_wait_seconds": 60,
        "agent_ring_seconds": 15,
        "announce_position": True,
        "overflow": {"voicemail": "101"},
    }
    with db.session_scope(session_factory) as session:
        again = yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True))
        assert tenant_file().apply(session, again).changed is False
    with db.session_scope(session_factory) as session:
        assert db.tenant_by_domain(session, "acme.kumo.test").config_version == version
        # Reordered agents and a removed queue.
        changed = _doc(call_queues=[{**QUEUES[0], "agents": ["103", "101"]}])
        assert tenant_file().apply(session, changed).changed
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
        assert list(snap.queues) == ["600"] and snap.queues["600"].agents == ("103", "101")
        assert session.query(models.CallQueueAgent).count() == 2


@pytest.mark.parametrize(
    ("queues", "path", "code"),
    [
        ([{"number": "101"}], ("call_queues", 0, "number"), "queue_is_extension"),
        ([{"number": "705"}], ("call_queues", 0, "number"), "queue_is_park_slot"),
        ([{"number": "600"}, {"number": "600"}], ("call_queues", 1, "number"), "queue_twice"),
        ([{"number": "600", "agents": ["109"]}], ("call_queues", 0, "agents", 0), "queue_agent_unknown"),
        ([{"number": "600", "agents": ["101", "101"]}], ("call_queues", 0, "agents", 1), "queue_agent_twice"),
        (
            [{"number": "600", "overflow": {"ring_group": "nope"}}],
            ("call_queues", 0, "overflow", "ring_group"),
            "missing",
        ),
    ],
)
def test_the_file_refuses_clashes_naming_the_field(session_factory, queues, path, code):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, _doc(call_queues=queues))
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]


@pytest.mark.parametrize(
    ("queue", "path"),
    [
        ({"number": "600", "strategy": "random"}, ("call_queues", 0, "strategy")),
        ({"number": "600", "max_wait_seconds": 5}, ("call_queues", 0, "max_wait_seconds")),
        ({"number": "0600"}, ("call_queues", 0, "number")),
        ({"number": "600", "agent_ring_seconds": 1}, ("call_queues", 0, "agent_ring_seconds")),
    ],
)
def test_bad_values_are_refused_on_their_field(session_factory, queue, path):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, _doc(call_queues=[queue]))
    assert [e.path for e in refused.value.errors] == [path]


def test_a_carrier_call_to_a_number_naming_the_queue_waits_then_overflows(session_factory):
    numbers = [{"number": "0312345678", "destination": {"external": "600"}}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(numbers=numbers))
        snap = _snap(session)
    plan = plan_from_carrier(snap, "+81312345678", "+819011112222", NOW, national="0312345678")
    apps = _apps(plan)
    cc = apps.index(("callcenter", "600@acme.kumo.test"))
    assert ("set", "hangup_after_bridge=true") in apps[:cc]
    assert ("set", "cc_moh_override=local_stream://moh") in apps[:cc]
    assert ("playback", "kumo/queue_position_before.wav") in apps[:cc]
    assert ("playback", "digits/${kumo_queue_position}.wav") in apps[:cc]
    # The limit on external channels is taken before the queue, as for any destination.
    assert apps.index(next(a for a in apps if a[0] == "limit")) < cc
    # After the wait: the overflow (101's voicemail).
    assert ("voicemail", "default acme.kumo.test 101") in apps[cc:]
    assert any("overflow" in d.what for d in plan.decisions)
    assert b"callcenter_config(queue count members 600@acme.kumo.test)" in render(plan)


def test_a_snapshot_read_for_one_number_reads_the_users_a_queue_overflows_to(session_factory):
    numbers = [{"number": "0312345678", "destination": {"external": "600"}}]
    queues = [{"number": "600", "agents": ["101"], "overflow": {"user": "103"}}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(numbers=numbers, call_queues=queues))
        snap = snapshots().reaching(session_rows(session), "0312345678")
    assert "103" in snap.users
    plan = plan_from_carrier(snap, "+81312345678", "+819011112222", NOW, national="0312345678")
    assert ("bridge", "user/103@acme.kumo.test,pickup/group@acme.kumo.test") in _apps(plan)


def test_a_phone_dials_the_queue_and_an_overflow_back_into_it_is_cut(session_factory):
    queues = [{"number": "600", "agents": ["101"], "overflow": {"external": "600"}}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(call_queues=queues))
        snap = _snap(session)
    plan = plan_from_phone(snap, "103", "600", NOW)
    apps = _apps(plan)
    assert apps.count(("callcenter", "600@acme.kumo.test")) == 1
    assert apps[-1] == ("hangup", "NORMAL_CLEARING")


def test_login_and_logout_codes_fire_the_event_and_set_the_switch(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
        snap = _snap(session)
    login = _apps(plan_from_phone(snap, "103", "*51", NOW))
    assert any(
        app == "event"
        and "Event-Subclass=kumo::queue_agent" in data
        and "kumo_extension=103" in data
        and "kumo_domain=acme.kumo.test" in data
        and "kumo_agent=login" in data
        for app, data in login
    )
    assert (
        "set",
        "kumo_queue_agent=${callcenter_config(agent set status 103@acme.kumo.test Available)}",
    ) in login
    assert b"agent set status 103@acme.kumo.test Available" in render(
        plan_from_phone(snap, "103", "*51", NOW)
    )
    assert b"'Logged Out'" in render(plan_from_phone(snap, "103", "*52", NOW))
    logout = _apps(plan_from_phone(snap, "103", "*52", NOW))
    assert (
        "set",
        "kumo_queue_agent=${callcenter_config(agent set status 103@acme.kumo.test 'Logged Out')}",
    ) in logout
    # An agent in do not disturb is stored as logged in but stays out of the calls until it ends.
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(users=[*USERS[:2], {**USERS[2], "do_not_disturb": True}]))
        dnd = _snap(session)
    assert (
        "set",
        "kumo_queue_agent=${callcenter_config(agent set status 103@acme.kumo.test 'Logged Out')}",
    ) in _apps(plan_from_phone(dnd, "103", "*51", NOW))
    # 102 is no agent of any queue: a low tone, nothing fired.
    stranger = _apps(plan_from_phone(snap, "102", "*51", NOW))
    assert not any(app == "event" for app, _ in stranger)


def test_callcenter_conf_names_queues_agents_and_tiers_per_tenant(session_factory, database_url):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
        beta_users = [
            {"extension": e, "name": f"Beta {e}", "password": f"Str0ng-b{e}-pass"} for e in ("101", "103")
        ]
        beta = {**_doc(), "domain": "beta.kumo.test", "numbers": [], "users": beta_users, "ring_groups": []}
        tenant_file().apply(session, beta)
        tenant = db.tenant_by_domain(session, "acme.kumo.test")
        assert set_agent_login(session, tenant.id, "103", True, "test") is True
        assert set_agent_login(session, tenant.id, "103", True, "test") is False
        assert set_agent_login(session, tenant.id, "102", True, "test") is None  # not an agent
    store = LookupStore(database_url)
    try:
        state = read_state(store)
        assert set(state.queues) == {
            "600@acme.kumo.test",
            "601@acme.kumo.test",
            "600@beta.kumo.test",
            "601@beta.kumo.test",
        }
        assert state.agents["103@acme.kumo.test"].status == "Available"
        assert state.agents["103@beta.kumo.test"].status == "Logged Out"  # beta's 103 is another agent
        assert state.agents["101@acme.kumo.test"].contact == "[leg_timeout=15]user/101@acme.kumo.test"
    finally:
        store.dispose()
    # Do not disturb keeps a logged-in agent out of the queues' calls while it lasts.
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(users=[*USERS[:2], {**USERS[2], "do_not_disturb": True}]))
    store = LookupStore(database_url)
    try:
        state = read_state(store)
        assert state.agents["103@acme.kumo.test"].status == "Logged Out"
        document = etree.fromstring(render_callcenter_conf(state))
        queue = document.find(".//queue[@name='600@acme.kumo.test']")
        params = {p.get("name"): p.get("value") for p in queue.iter("param")}
        assert params["strategy"] == "ring-all" and params["max-wait-time"] == "60"
        tiers = {(t.get("queue"), t.get("agent"), t.get("position")) for t in document.iter("tier")}
        assert ("600@acme.kumo.test", "103@acme.kumo.test", "2") in tiers
        # The switch asking for one queue gets that queue, its agents and tiers only.
        answer, _why = CallcenterConfig(store).answer(
            {"key_name": "name", "key_value": "callcenter.conf", "CC-Queue": "601@beta.kumo.test"}
        )
        one = etree.fromstring(answer)
        assert [q.get("name") for q in one.iter("queue")] == ["601@beta.kumo.test"]
        assert [a.get("name") for a in one.iter("agent")] == ["103@beta.kumo.test"]
        missing, why = CallcenterConfig(store).answer(
            {"key_name": "name", "key_value": "callcenter.conf", "CC-Queue": "600@nobody.test"}
        )
        assert missing is None and "no queue" in why
        assert CallcenterConfig(store).answer({"key_name": "name", "key_value": "voicemail.conf"}) is None
    finally:
        store.dispose()


class _Switch:
    """The event socket as the sync job sees it: records commands, answers the list commands empty
    (synthetic, in mod_callcenter's format: a header line, then +OK)."""

    def __init__(self):
        self.sent: list[str] = []

    def __call__(self, command: str):
        self.sent.append(command)

        class Reply:
            ok = True
            data = "name|instance_id|uuid|type\n+OK\n" if command.endswith(" list") else "+OK\n"

        return Reply()


def test_the_sync_job_reloads_changed_queues_and_sends_login_states(session_factory, database_url):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
    store = LookupStore(database_url)
    switch = _Switch()
    job = QueueSync(store, switch)
    try:
        job.on_connect()
        # The switch holds none yet (the fake's lists are empty): loaded, not reloaded.
        assert "bgapi callcenter_config queue load 600@acme.kumo.test" in switch.sent
        assert "bgapi callcenter_config queue load 601@acme.kumo.test" in switch.sent
        job.check_once()
        switch.sent.clear()
        with db.session_scope(session_factory) as session:
            set_agent_login(session, db.tenant_by_domain(session, "acme.kumo.test").id, "101", True, "test")
        assert job.check_once()
        assert "api callcenter_config agent set status 101@acme.kumo.test 'Available'" in switch.sent
        assert not any("reload" in c for c in switch.sent)
        switch.sent.clear()
        with db.session_scope(session_factory) as session:
            tenant_file().apply(session, _doc(call_queues=[{**QUEUES[0], "agents": ["101"]}]))
        assert job.check_once()
        assert "api callcenter_config queue unload 601@acme.kumo.test" in switch.sent
        assert "api callcenter_config tier del 600@acme.kumo.test 103@acme.kumo.test" in switch.sent
        assert "api callcenter_config agent del 103@acme.kumo.test" in switch.sent
        assert "bgapi callcenter_config queue reload 600@acme.kumo.test" in switch.sent
        assert not job.check_once()  # nothing changed since
    finally:
        store.dispose()


def test_each_queue_is_a_held_option_item(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
        held = held_now(session, db.tenant_by_domain(session, "acme.kumo.test"), billable_items())
    assert {("call_queue", "600"), ("call_queue", "601")} <= set(held)


def test_the_lookup_service_answers_callcenter_conf_per_queue(session_factory, engine, settings):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
    app = ServiceApp(settings, LookupStore(engine=engine))
    # What mod_callcenter posts for one queue: the configuration lookup with its CC-Queue header.
    body = (
        b"hostname=fs&section=configuration&tag_name=configuration&key_name=name&key_value=callcenter.conf"
        b"&Event-Name=REQUEST_PARAMS&CC-Queue=600%40acme.kumo.test"
    )
    document = etree.fromstring(app.handle("POST", "/fs/xml", {}, body).body)
    assert [q.get("name") for q in document.iter("queue")] == ["600@acme.kumo.test"]
    missing = app.handle("POST", "/fs/xml", {}, body.replace(b"600%40acme", b"600%40beta"))
    assert b'status="not found"' in missing.body
