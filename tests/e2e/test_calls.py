"""Extension to extension through the switch; both legs' CDRs stored and rated."""

from __future__ import annotations

from e2e.esl import event_is
from e2e.tenants import ACME


def _cdrs(e2e, domain: str, since_id: int) -> list:
    return e2e.kumo.rows(
        "SELECT c.id, c.uuid, c.leg, c.call_class, c.direction, c.extension, c.destination, c.billsec, "
        "c.hangup_cause, c.charge_yen FROM cdrs c JOIN tenants t ON t.id = c.tenant_id "
        "WHERE t.domain = :d AND c.id > :since ORDER BY c.id",
        d=domain,
        since=since_id,
    )


def _last_cdr_id(e2e) -> int:
    return e2e.kumo.rows("SELECT COALESCE(MAX(id), 0) AS m FROM cdrs")[0].m


def test_extension_to_extension_bridges_and_both_legs_are_rated_internal(e2e) -> None:
    callee = e2e.registered_phone(ACME.domain, "102")
    caller = e2e.phone(ACME.domain, "101")
    since = _last_cdr_id(e2e)
    mark = e2e.events.mark()

    answering = callee.answer(ring_ms=300)
    calling = caller.call("102", talk_ms=1500)
    assert calling.wait().ok, calling.responses()
    assert answering.wait().ok

    bridge = e2e.events.wait_for(
        event_is("CHANNEL_BRIDGE", Caller_Destination_Number="102"), since=mark, what="bridge 101 -> 102"
    )
    a_uuid = bridge["Unique-ID"]
    b_uuid = bridge["Other-Leg-Unique-ID"]
    # The B leg went to the phone that registered as 102 (its port), not anywhere else.
    invite = answering.requests("INVITE")[0]
    assert invite.startswith(f"INVITE sip:102@127.0.0.1:{callee.port}")
    for uuid in (a_uuid, b_uuid):
        done = e2e.events.wait_for(
            event_is("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid), since=mark, what=f"hangup {uuid}"
        )
        assert done["Hangup-Cause"] == "NORMAL_CLEARING"

    rows = e2e.wait_until(lambda: len(_cdrs(e2e, ACME.domain, since)) >= 2 and _cdrs(e2e, ACME.domain, since))
    by_uuid = {r.uuid: r for r in rows}
    assert set(by_uuid) == {a_uuid, b_uuid}
    a, b = by_uuid[a_uuid], by_uuid[b_uuid]
    assert (a.leg, a.call_class, a.direction, a.extension, a.destination) == (
        "a",
        "internal",
        "internal",
        "101",
        "102",
    )
    assert b.leg == "b"
    assert a.billsec >= 1

    e2e.kumo.fsctl("cdr", "rate")
    rated = {r.uuid: r.charge_yen for r in _cdrs(e2e, ACME.domain, since)}
    assert rated == {a_uuid: 0, b_uuid: 0}
