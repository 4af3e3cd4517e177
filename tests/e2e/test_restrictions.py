"""International, trial and emergency rules, decided by kumo, enforced by the switch."""

from __future__ import annotations

import pytest

from e2e.esl import event_is
from e2e.tenants import ACME, BETA, SUSPENDED, TRIAL
from e2e.test_calls import _cdrs, _last_cdr_id
from e2e.test_outbound import _uri_user, header

INTERNATIONAL = "01012125550100"  # 010 + 1 (US) 212 555 0100


def refused(e2e, domain: str, extension: str, dialled: str) -> tuple[int | None, str]:
    """Dial and expect a refusal: the SIP answer and the caller leg's hang-up cause."""
    mark = e2e.events.mark()
    run = e2e.phone(domain, extension).call_refused(dialled)
    assert run.ok, run.responses()
    hangup = e2e.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number=dialled), since=mark, what="refusal"
    )
    return run.final_response(), hangup["Hangup-Cause"]


def no_carrier_leg(e2e, mark: int) -> bool:
    return not e2e.events.matching(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Channel-Name", "").startswith("sofia/carrier/")
        ),
        since=mark,
    )


def test_international_refused_without_the_option(e2e) -> None:
    mark = e2e.events.mark()
    code, cause = refused(e2e, ACME.domain, "101", INTERNATIONAL)
    assert (code, cause) == (403, "OUTGOING_CALL_BARRED")
    assert no_carrier_leg(e2e, mark)


def test_international_sent_with_the_option_and_rated_per_country(e2e) -> None:
    since = _last_cdr_id(e2e)
    carrier = e2e.carrier().answer(ring_ms=100)
    call = e2e.phone(BETA.domain, "101").call(INTERNATIONAL, talk_ms=1200)
    assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    invite = carrier.requests("INVITE")[0]
    assert _uri_user(invite.splitlines()[0]) in ("+12125550100", INTERNATIONAL)
    rows = e2e.wait_until(
        lambda: [
            r for r in _cdrs(e2e, BETA.domain, since) if r.leg == "a" and r.call_class == "international"
        ]
    )
    e2e.kumo.fsctl("cdr", "rate")
    charged = {r.uuid: r.charge_yen for r in _cdrs(e2e, BETA.domain, since)}[rows[0].uuid]
    assert charged == 20 * ((rows[0].billsec + 59) // 60)  # prices.yaml: +1 at 20 yen per started minute


def test_trial_tenant_external_refused_internal_works(e2e) -> None:
    mark = e2e.events.mark()
    code, cause = refused(e2e, TRIAL.domain, "101", "0612345678")
    assert code in (403, 603) and cause in ("OUTGOING_CALL_BARRED", "CALL_REJECTED")
    assert no_carrier_leg(e2e, mark)
    callee = e2e.registered_phone(TRIAL.domain, "102")
    answering = callee.answer()
    call = e2e.phone(TRIAL.domain, "101").call("102", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok


@pytest.mark.parametrize("emergency", ["110", "118", "119"])
def test_emergency_goes_out_even_from_a_suspended_tenant(e2e, emergency: str) -> None:
    carrier = e2e.carrier().answer(ring_ms=100)
    call = e2e.phone(SUSPENDED.domain, "101").call(emergency, talk_ms=300)
    assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    invite = carrier.requests("INVITE")[0]
    assert _uri_user(invite.splitlines()[0]) == emergency
    # The tenant's geographic number as caller ID.
    assert "+81344440000" in header(invite, "P-Asserted-Identity")


def test_suspended_tenant_cannot_call_out_otherwise(e2e) -> None:
    mark = e2e.events.mark()
    code, cause = refused(e2e, SUSPENDED.domain, "101", "0612345678")
    assert code in (403, 603) and cause in ("OUTGOING_CALL_BARRED", "CALL_REJECTED")
    assert no_carrier_leg(e2e, mark)
