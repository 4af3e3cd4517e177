"""With kumo stopped the switch fails closed; restarted, everything works again
without touching the switch; CDRs of calls that ended meanwhile are spooled and imported once."""

from __future__ import annotations

from e2e.esl import event_is
from e2e.tenants import ACME


def _count(e2e, uuid: str) -> int:
    return e2e.kumo.rows("SELECT COUNT(*) AS n FROM cdrs WHERE uuid = :u", u=uuid)[0].n


def test_kumo_down_refuses_everything_and_recovers(e2e) -> None:
    spool = e2e.workdir / "cdr-spool"
    callee = e2e.registered_phone(ACME.domain, "102")
    mark = e2e.events.mark()
    answering = callee.answer(timeout_s=60)
    call = e2e.phone(ACME.domain, "101").call("102", talk_ms=4000, timeout_s=60)
    bridge = e2e.events.wait_for(event_is("CHANNEL_BRIDGE", Caller_Destination_Number="102"), since=mark)
    legs = (bridge["Unique-ID"], bridge["Other-Leg-Unique-ID"])

    e2e.kumo.stop()
    try:
        # The call in progress is not kumo's to keep: it goes on and ends normally.
        assert call.wait().ok and answering.wait().ok
        for uuid in legs:
            e2e.events.wait_for(event_is("CHANNEL_HANGUP_COMPLETE", Unique_ID=uuid), since=mark)
        # mod_json_cdr gives up after 1 + retries posts and spools the leg (json_cdr.conf.xml).
        e2e.wait_until(
            lambda: all((spool / f"{uuid}.cdr.json").exists() for uuid in legs),
            timeout=30,
            what="spooled CDRs",
        )

        # Fail closed: no user registers, phones' and carrier's calls are refused. 102 registered
        # moments ago (served `cacheable` where FSCTL_DIRECTORY_CACHE_MS turns caching on: the
        # graceful stop flushes the switch's user cache, so it is refused like a user never served).
        run = e2e.phone(ACME.domain, "102").register_refused()
        assert run.ok and run.responses("REGISTER") == [401, 403]
        refused = e2e.phone(ACME.domain, "101").call_refused("102")
        assert refused.ok and refused.final_response() in (403, 503)
        mark = e2e.events.mark()
        carrier = e2e.carrier_call("0312345678", refused=True)
        assert carrier.ok and carrier.final_response() == 503
        hangup = e2e.events.wait_for(
            event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number="0312345678"), since=mark
        )
        assert hangup["Hangup-Cause"] == "NORMAL_TEMPORARY_FAILURE"
    finally:
        if e2e.kumo.proc is None:
            e2e.kumo.start()
            e2e.kumo.wait_esl_connected()

    # Back: the same switch, untouched, registers and routes again.
    phone = e2e.registered_phone(ACME.domain, "104")
    answering = phone.answer()
    call = e2e.phone(ACME.domain, "101").call("104", talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok

    assert [_count(e2e, uuid) for uuid in legs] == [0, 0]
    e2e.kumo.fsctl("cdr", "import", str(spool))
    assert [_count(e2e, uuid) for uuid in legs] == [1, 1]
    # Again (e.g. cron ran twice, or a file was put back): still one row per leg.
    for uuid in legs:
        done = spool / "imported" / f"{uuid}.cdr.json"
        if done.exists():
            done.rename(spool / done.name)
    e2e.kumo.fsctl("cdr", "import", str(spool))
    assert [_count(e2e, uuid) for uuid in legs] == [1, 1]
