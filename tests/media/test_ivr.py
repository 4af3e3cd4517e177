"""IVR menus: greeting, options, retries, final fallback; replayed with the captured DTMF traffic."""

from __future__ import annotations

import datetime as dt
import gzip
import urllib.parse

import pytest
from lxml import etree

from fsctl.media.eventlog import iter_events
from fsctl.trace import format_text
from fsctl.xml.dialplan import render
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
MENUS = [
    {
        "name": "main",
        "greeting": "main-menu.wav",
        "timeout_seconds": 4,
        "max_attempts": 3,
        "options": {
            "1": {"ring_group": "reception"},
            "2": {"user": "102"},
            "3": {"ivr": "sub"},
            "9": {"voicemail": "101"},
            "0": {"external": "0312349999"},
        },
        "timeout_destination": {"voicemail": "101"},
    },
    {"name": "sub", "options": {"1": {"user": "101"}, "9": {"ivr": "main"}}},
]


@pytest.fixture
def responder(engine, settings):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    store.reset()


def ivr_tenant(make_tenant, **overrides) -> None:
    overrides.setdefault("ivr_menus", MENUS)
    make_tenant(
        numbers=[{"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True}], **overrides
    )


def carrier_call(fixtures_dir, destination: str) -> dict[str, str]:
    body = (fixtures_dir / "xml_curl" / "dialplan-loopback-public-9196.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields["Hunt-Destination-Number"] = fields["Caller-Destination-Number"] = destination
    return fields


def actions(document: bytes) -> list[tuple[str, str]]:
    return [(a.get("application"), a.get("data") or "") for a in etree.fromstring(document).iter("action")]


def captured_choice(fixtures_dir) -> str:
    """The digit the lab caller pressed, as play_and_get_digits stored it (CHANNEL_EXECUTE_COMPLETE)."""
    stream = gzip.open(fixtures_dir / "esl" / "inbound-plain-ivr.log.gz").read()
    done = next(
        e
        for e in iter_events(stream)
        if e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "play_and_get_digits"
    )
    dtmf = next(e for e in iter_events(stream) if e.get("Event-Name") == "DTMF")
    assert done["variable_read_result"] == "success" and dtmf["DTMF-Digit"] == done["variable_ivr_choice"]
    return done["variable_ivr_choice"]


def menu_then(responder, fields, digit: str) -> list[tuple[str, str]]:
    """Answer the menu, then the second hunt FreeSWITCH makes after `transfer kumo-ivr-main-<digit>`."""
    first = actions(responder.answer(fields))
    continuation = next(d for a, d in first if a == "set" and d.startswith("kumo_continuation="))
    transfer = first[-1]
    # A carrier call's second hunt is in its tenant's public_<domain> context.
    assert transfer == ("transfer", "kumo-ivr-main-${kumo_ivr_digit} XML public_acme.kumo.test")
    fields = dict(
        fields,
        **{
            "Hunt-Context": transfer[1].rsplit(" ", 1)[1],
            "Hunt-Destination-Number": f"kumo-ivr-main-{digit}",
            "variable_kumo_continuation": continuation.split("=", 1)[1],
            "variable_kumo_ivr_digit": digit,
        },
    )
    return actions(responder.answer(fields))


def test_number_with_a_menu_plays_the_tenant_greeting_and_collects_one_digit(
    make_tenant, responder, fixtures_dir
):
    ivr_tenant(make_tenant)
    acts = actions(responder.answer(carrier_call(fixtures_dir, "0312345678")))
    assert ("answer", "") in acts
    (pagd,) = [d for a, d in acts if a == "play_and_get_digits"]
    # same argument order as the lab's working `1 1 3 4000 # <file> <invalid file> <var> <regex>`
    assert pagd.split(" ") == [
        "1",
        "1",
        "3",
        "4000",
        "#",
        "${kumo_audio_dir}/acme.kumo.test/main-menu.wav",
        "kumo/invalid_entry.wav",
        "kumo_ivr_digit",
        "^[01239]$",
    ]


def test_the_captured_dtmf_choice_routes_to_its_option(make_tenant, responder, fixtures_dir):
    ivr_tenant(make_tenant)
    digit = captured_choice(fixtures_dir)  # "1"
    acts = menu_then(responder, carrier_call(fixtures_dir, "0312345678"), digit)
    (dial,) = [d for a, d in acts if a == "bridge"]
    assert dial.startswith("user/101@acme.kumo.test,user/102@acme.kumo.test")  # ring group reception


def test_options_to_user_voicemail_submenu_and_external(make_tenant, responder, fixtures_dir):
    ivr_tenant(make_tenant)
    call = carrier_call(fixtures_dir, "0312345678")
    assert any(a == "bridge" and d.startswith("user/102@") for a, d in menu_then(responder, call, "2"))
    assert menu_then(responder, call, "9")[-1] == ("voicemail", "default acme.kumo.test 101")
    sub = menu_then(responder, call, "3")
    assert sub[-1] == ("transfer", "kumo-ivr-sub-${kumo_ivr_digit} XML public_acme.kumo.test")
    assert "kumo/ivr_greeting.wav" in next(d for a, d in sub if a == "play_and_get_digits")  # default prompt
    external = menu_then(responder, call, "0")
    assert ("bridge", "sofia/gateway/carrier/+81312349999") in external


def test_external_option_follows_the_outbound_rules(make_tenant, responder, fixtures_dir):
    from fsctl.tenant_file import ConfigError

    menus = [dict(MENUS[0], options={"0": {"external": "09901234567"}}), MENUS[1]]  # premium: blocked
    with pytest.raises(ConfigError, match="options.0.external"):
        ivr_tenant(make_tenant, ivr_menus=menus)
    ivr_tenant(make_tenant, status="suspended")
    assert actions(responder.answer(carrier_call(fixtures_dir, "0312345678"))) == [
        ("hangup", "CALL_REJECTED")
    ]


def test_timeout_and_invalid_input_end_in_the_final_fallback(make_tenant, responder, fixtures_dir):
    ivr_tenant(make_tenant)
    call = carrier_call(fixtures_dir, "0312345678")
    # after max_attempts without a valid digit play_and_get_digits leaves the variable empty
    assert menu_then(responder, call, "")[-1] == ("voicemail", "default acme.kumo.test 101")
    assert menu_then(responder, call, "7")[-1] == ("voicemail", "default acme.kumo.test 101")


def test_no_fallback_says_so_and_hangs_up(make_tenant, responder, fixtures_dir):
    menus = [dict(MENUS[0], timeout_destination=None), MENUS[1]]
    make_tenant(
        ivr_menus=menus,
        numbers=[{"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True}],
    )
    acts = menu_then(responder, carrier_call(fixtures_dir, "0312345678"), "")
    assert acts[-2:] == [("playback", "kumo/no_entry.wav"), ("hangup", "NORMAL_CLEARING")]


def test_trace_explains_the_menu():
    from planners import plan_continuation

    from fsctl.routing.snapshot import Dest, IvrSnap, TenantSnap, UserSnap

    snap = TenantSnap(
        id=1,
        domain="acme.kumo.test",
        name="A",
        users={"101": UserSnap("101", "A")},
        ivr_menus={"main": IvrSnap("main", options=(("1", Dest("user", "101")),))},
    )
    plan = plan_continuation(snap, "public", "kumo-ivr-main-", frozenset({"ivr:main"}), "0901", TUESDAY_10)
    text = format_text(plan)
    assert "no valid choice after 3 tries" in text and "no fallback set" in text
    render(plan)
