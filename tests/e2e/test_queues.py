"""Call queues (ACD) through the real switch (mod_callcenter): a carrier call waits in the queue hearing
its position and the music, an agent logs in with *51 and the call is delivered to them; ring-all
offers a call to every logged-in agent at once, longest-idle to one; after the maximum wait the caller
goes on to the overflow destination; another tenant's phone cannot log into this tenant's queue, and
its own queue 600 is another queue. The callers waiting are in kumo's database (the live view)."""

from __future__ import annotations

import pytest

from e2e.esl import event_is
from e2e.tenants import BETA, TENANTS, Tenant

DOMAIN = "acd.e2e.test"
RING_ALL, LONGEST_IDLE, OVERFLOWING, ROUND_ROBIN = "600", "601", "602", "603"
NUMBERS = {
    RING_ALL: "0377770600",
    LONGEST_IDLE: "0377770601",
    OVERFLOWING: "0377770602",
    ROUND_ROBIN: "0377770603",
}
CALLCENTER = "callcenter::info"


def _user(extension: str) -> dict:
    return {"extension": extension, "name": f"Desk {extension}", "password": f"E2e-acd-{extension}-pass"}


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    doc = {
        "domain": DOMAIN,
        "name": "ACD E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 4,
        "users": [_user("101"), _user("102"), _user("103"), _user("104")],
        "numbers": [{"number": n, "destination": {"external": q}} for q, n in NUMBERS.items()],
        "call_queues": [
            {"number": RING_ALL, "name": "サポート", "agents": ["101", "102"], "strategy": "ring_all"},
            {"number": LONGEST_IDLE, "agents": ["101", "102"], "strategy": "longest_idle"},
            {
                "number": OVERFLOWING,
                "agents": ["103"],
                "max_wait_seconds": 10,
                "overflow": {"user": "104"},
            },
            {"number": ROUND_ROBIN, "agents": ["101", "102"], "strategy": "round_robin"},
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    # kumo's sync job has the switch load the queues (callcenter_config queue reload, in the background).
    e2e.wait_until(
        lambda: all(f"{q}@{DOMAIN}" in e2e.switch.api("callcenter_config queue list") for q in NUMBERS),
        timeout=20,
        what="the switch has the queues",
    )
    return tenant


def _status(e2e, agent: str) -> str:
    return e2e.switch.api(f"callcenter_config agent get status {agent}").strip()


def _stored_login(e2e, domain: str, extension: str) -> bool:
    rows = e2e.kumo.rows(
        "SELECT s.logged_in FROM queue_agent_states s JOIN tenants t ON t.id = s.tenant_id "
        "WHERE t.domain = :d AND s.extension = :e",
        d=domain,
        e=extension,
    )
    return bool(rows and rows[0].logged_in)


def _code(e2e, domain: str, extension: str, code: str) -> None:
    """`extension` dials `code`: answered, a confirmation tone, hung up by the switch."""
    run = e2e.phone(domain, extension).call_until_hung_up(code, timeout_s=30)
    assert run.wait().ok, run.responses()


def _log_in(e2e, extension: str) -> None:
    _code(e2e, DOMAIN, extension, "*51")
    e2e.wait_until(lambda: _stored_login(e2e, DOMAIN, extension), what=f"{extension}'s login stored")
    e2e.wait_until(lambda: _status(e2e, f"{extension}@{DOMAIN}") == "Available", what="agent available")


def _log_out(e2e, extension: str) -> None:
    _code(e2e, DOMAIN, extension, "*52")
    e2e.wait_until(lambda: not _stored_login(e2e, DOMAIN, extension), what=f"{extension}'s logout stored")
    e2e.wait_until(lambda: _status(e2e, f"{extension}@{DOMAIN}") == "Logged Out", what="agent logged out")


def _waiting(e2e, queue: str) -> list:
    return e2e.kumo.rows(
        "SELECT c.caller_number, c.agent FROM queue_callers c JOIN tenants t ON t.id = c.tenant_id "
        "WHERE t.domain = :d AND c.queue_number = :q",
        d=DOMAIN,
        q=queue,
    )


def test_a_caller_waits_with_music_until_an_agent_logs_in_and_answers(e2e, office: Tenant) -> None:
    assert _status(e2e, f"101@{DOMAIN}") == "Logged Out"
    agent = e2e.registered_phone(DOMAIN, "101")
    mark = e2e.events.mark()
    call = e2e.carrier_call(NUMBERS[RING_ALL], caller="0355551234", talk_ms=20000)
    joined = e2e.events.wait_for(
        event_is("CUSTOM", CALLCENTER, CC_Action="member-queue-start", CC_Queue=f"{RING_ALL}@{DOMAIN}"),
        since=mark,
        timeout=20,
        what="the caller joins the queue",
    )
    uuid = joined["CC-Member-Session-UUID"]
    played = [
        e.get("Playback-File-Path", "")
        for e in e2e.events.matching(event_is("PLAYBACK_START", Unique_ID=uuid), since=mark)
    ]
    # "You are caller number" 1 "in line", in the tenant's language, before the wait.
    assert played[0].endswith("ja/jp/kumo/queue_position_before.wav"), played
    assert played[1].endswith("digits/1.wav") and played[2].endswith("kumo/queue_position_after.wav")
    e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "PLAYBACK_START"
            and e.get("Unique-ID") == uuid
            and e.get("Playback-File-Path", "").startswith("local_stream://moh")
        ),
        since=mark,
        timeout=10,
        what="the music while waiting",
    )
    # The live view's source: the caller waits in queue 600, no agent yet.
    waiting = e2e.wait_until(lambda: _waiting(e2e, RING_ALL), what="the caller in kumo's database")
    assert waiting[0].caller_number.endswith("355551234") and waiting[0].agent == ""

    answering = agent.answer(ring_ms=300, timeout_s=40)
    _log_in(e2e, "101")
    assert answering.wait(40).ok, answering.errors()
    assert answering.requests("INVITE")[0].startswith("INVITE sip:101@")
    e2e.events.wait_for(
        event_is("CUSTOM", CALLCENTER, CC_Action="bridge-agent-start", CC_Agent=f"101@{DOMAIN}"),
        since=mark,
        what="the queue bridges the caller to 101",
    )
    assert call.wait(40).ok, call.responses()
    e2e.wait_until(lambda: not _waiting(e2e, RING_ALL), what="the caller gone from kumo's database")
    _log_out(e2e, "101")


def test_ring_all_offers_every_agent_and_longest_idle_one(e2e, office: Tenant) -> None:
    first = e2e.registered_phone(DOMAIN, "101")
    second = e2e.registered_phone(DOMAIN, "102")
    _log_in(e2e, "101")
    _log_in(e2e, "102")
    try:
        ringing = first.answer(scenario="uas_noanswer", timeout_s=40)
        answering = second.answer(ring_ms=1500, timeout_s=40)
        # The caller hears its position (about 5 s) before the queue offers the call.
        call = e2e.carrier_call(NUMBERS[RING_ALL], talk_ms=10000)
        assert call.wait(40).ok, call.responses()
        assert answering.wait(40).ok, answering.errors()
        assert ringing.wait(40).ok, "101 must ring too and be cancelled when 102 answers"
        assert len(ringing.requests("INVITE")) == 1 and len(ringing.requests("CANCEL")) == 1

        # Longest idle: one agent is offered the call (the one idle longest, 101, who has not
        # answered a call since logging in); the other's phone stays quiet.
        mark = e2e.events.mark()
        quiet_or_answer = [first.answer(ring_ms=300, timeout_s=15), second.answer(ring_ms=300, timeout_s=15)]
        call = e2e.carrier_call(NUMBERS[LONGEST_IDLE], talk_ms=10000)
        assert call.wait(40).ok, call.responses()
        bridged = e2e.events.wait_for(
            event_is(
                "CUSTOM", CALLCENTER, CC_Action="bridge-agent-start", CC_Queue=f"{LONGEST_IDLE}@{DOMAIN}"
            ),
            since=mark,
            what="the longest-idle agent answers",
        )
        assert bridged["CC-Agent"] == f"101@{DOMAIN}"
        for run in quiet_or_answer:
            run.wait(40)
        offered = [len(run.requests("INVITE")) for run in quiet_or_answer]
        assert offered == [1, 0], offered
    finally:
        _log_out(e2e, "101")
        _log_out(e2e, "102")


def test_round_robin_offers_the_agents_in_turn(e2e, office: Tenant) -> None:
    phones = {ext: e2e.registered_phone(DOMAIN, ext) for ext in ("101", "102")}
    _log_in(e2e, "101")
    _log_in(e2e, "102")
    try:
        answered = []
        for _ in range(2):
            mark = e2e.events.mark()
            runs = {ext: phone.answer(ring_ms=300, timeout_s=30) for ext, phone in phones.items()}
            call = e2e.carrier_call(NUMBERS[ROUND_ROBIN], talk_ms=9000)
            bridged = e2e.events.wait_for(
                event_is(
                    "CUSTOM", CALLCENTER, CC_Action="bridge-agent-start", CC_Queue=f"{ROUND_ROBIN}@{DOMAIN}"
                ),
                since=mark,
                timeout=25,
                what="an agent answers",
            )
            answered.append(bridged["CC-Agent"])
            assert call.wait(40).ok, call.responses()
            for run in runs.values():
                run.proc.kill()
            # Exactly one phone was offered each call.
            assert sorted(len(run.requests("INVITE")) for run in runs.values()) == [0, 1]
        assert sorted(answered) == [f"101@{DOMAIN}", f"102@{DOMAIN}"], answered
    finally:
        _log_out(e2e, "101")
        _log_out(e2e, "102")


def test_after_the_maximum_wait_the_caller_goes_to_the_overflow(e2e, office: Tenant) -> None:
    overflow = e2e.registered_phone(DOMAIN, "104")
    answering = overflow.answer(ring_ms=300, timeout_s=40)
    mark = e2e.events.mark()
    call = e2e.carrier_call(NUMBERS[OVERFLOWING], talk_ms=22000)
    left = e2e.events.wait_for(
        event_is("CUSTOM", CALLCENTER, CC_Action="member-queue-end", CC_Queue=f"{OVERFLOWING}@{DOMAIN}"),
        since=mark,
        timeout=25,
        what="the caller leaves the queue after its maximum wait",
    )
    assert left["CC-Cancel-Reason"] == "TIMEOUT"
    waited = int(left["CC-Member-Leaving-Time"]) - int(left["CC-Member-Joined-Time"])
    assert 9 <= waited <= 13, waited
    assert answering.wait(40).ok, answering.errors()
    assert answering.requests("INVITE")[0].startswith("INVITE sip:104@")
    assert call.wait(40).ok, call.responses()


def test_another_tenants_phone_cannot_log_into_this_queue(e2e, office: Tenant) -> None:
    # beta has no queue: its 101 dialling *51 is no agent anywhere; acd's 101 stays logged out.
    _code(e2e, BETA.domain, "101", "*51")
    assert _status(e2e, f"101@{DOMAIN}") == "Logged Out"
    assert not _stored_login(e2e, DOMAIN, "101")
    # beta's own queue 600 with its own 101: another queue and another agent on the switch.
    e2e.kumo.apply({**BETA.doc, "call_queues": [{"number": "600", "agents": ["101"]}]})
    try:
        e2e.wait_until(
            lambda: f"600@{BETA.domain}" in e2e.switch.api("callcenter_config queue list"),
            timeout=20,
            what="beta's queue on the switch",
        )
        _code(e2e, BETA.domain, "101", "*51")
        e2e.wait_until(lambda: _status(e2e, f"101@{BETA.domain}") == "Available", what="beta's agent in")
        assert _stored_login(e2e, BETA.domain, "101")
        assert _status(e2e, f"101@{DOMAIN}") == "Logged Out"
        assert not _stored_login(e2e, DOMAIN, "101")
        # A beta phone dialling 600 waits in beta's queue, never in acd's.
        mark = e2e.events.mark()
        call = e2e.phone(BETA.domain, "102").call("600", talk_ms=9000)
        joined = e2e.events.wait_for(
            event_is("CUSTOM", CALLCENTER, CC_Action="member-queue-start"),
            since=mark,
            timeout=20,
            what="beta caller queued",
        )
        assert joined["CC-Queue"] == f"600@{BETA.domain}"
        assert call.wait(40).ok, call.responses()
    finally:
        e2e.kumo.apply(BETA.doc)
    e2e.wait_until(
        lambda: f"600@{BETA.domain}" not in e2e.switch.api("callcenter_config queue list"),
        timeout=20,
        what="beta's queue gone from the switch",
    )


def test_a_restarted_callcenter_module_gets_the_stored_logins_back(e2e, office: Tenant) -> None:
    _log_in(e2e, "102")
    try:
        # The module forgets its agents (truncate-agents-on-load) and reads callcenter.conf from kumo
        # again: the stored login comes back with it.
        e2e.switch.api("reload mod_callcenter")
        e2e.wait_until(
            lambda: f"{RING_ALL}@{DOMAIN}" in e2e.switch.api("callcenter_config queue list"),
            timeout=20,
            what="the queues loaded again",
        )
        assert _status(e2e, f"102@{DOMAIN}") == "Available"
        assert _status(e2e, f"101@{DOMAIN}") == "Logged Out"
    finally:
        _log_out(e2e, "102")
