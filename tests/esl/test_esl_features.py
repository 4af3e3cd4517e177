"""Park and pickup end to end: the dialplan the routing code renders, per tenant, and the ring-back."""

from __future__ import annotations

import datetime as dt
import re
import sys
import urllib.parse
from pathlib import Path

import pytest
from eslfake import stream_bytes  # noqa: I001
from lxml import etree
from planners import plan_continuation, plan_from_phone

from fsctl.esl.events import make_event
from fsctl.esl.park import ParkTimeouts
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.esl.state import park_lot
from fsctl.esl.wiring import build_dispatcher
from fsctl.xml.dialplan import RenderError, render
from fsctl.xmlcurl.dialplan import DialplanResponder, blind_transfer_to
from fsctl.xmlcurl.store import LookupStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "routing"))
from factories import make_snapshot  # noqa: E402  (tests/routing's snapshot factory)

OPEN = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def apps(plan):
    return [(a.app, a.data) for a in plan.actions]


def refer_fields(fixtures_dir, domain: str, caller: str, slot: str, referrer: str) -> dict[str, str]:
    """A captured dialplan body (1001 dials 1002) rewritten into a REFER to a park slot. Synthetic:
    the transfer variables are copied in the shape the park_refer ESL capture shows them."""
    body = (fixtures_dir / "xml_curl" / "dialplan-bridge-1002.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields.update(
        {
            "Hunt-Context": domain,
            "Caller-Context": domain,
            "Hunt-Destination-Number": slot,
            "Caller-Destination-Number": slot,
            "variable_domain_name": domain,
            "variable_user_name": caller,
            "variable_sip_auth_username": caller,
            "variable_sip_h_Referred-By": f"<sip:{referrer}@{domain}>",
            "variable_transfer_history": f"1795616947:7e1c64b3-ead5-42b4-ab61-5a82f87e4b01:bl_xfer:{slot}/{domain}/XML",
        }
    )
    return fields


def test_the_capture_shows_the_transfer_marker_we_read():
    frames = FrameReader().feed(stream_bytes("inbound-plain-park_refer.log.gz"))
    events = [make_event(*decode_event(f)) for f in frames if f.content_type == "text/event-plain"]
    hold = next(e for e in events if e.name == "valet_parking::info")
    history = hold.headers["variable_transfer_history"]
    assert blind_transfer_to({"variable_transfer_history": history}, "6000")
    assert not blind_transfer_to({"variable_transfer_history": history}, "6001")
    assert not blind_transfer_to({}, "6000")


# -- park -------------------------------------------------------------------------------------------
def test_dialling_a_slot_parks_or_retrieves_on_the_tenants_own_lot():
    acme, beta = make_snapshot(), make_snapshot(id=2, domain="beta.kumo.test")
    assert apps(plan_from_phone(acme, "101", "710", OPEN))[-1] == ("valet_park", "park@acme.kumo.test 710")
    assert apps(plan_from_phone(beta, "101", "710", OPEN))[-1] == ("valet_park", "park@beta.kumo.test 710")
    assert ("set", "kumo_parked_by=101") in apps(plan_from_phone(acme, "101", "710", OPEN))


def test_a_blind_transfer_to_a_slot_never_lands_on_a_parked_call():
    plan = plan_from_phone(make_snapshot(), "101", "705", OPEN, blind_transfer=True, referred_by="102")
    parks = [data for app, data in apps(plan) if app == "valet_park"]
    # `valet_park <lot> 705` would bridge to a call already parked in 705: only `auto in` here.
    assert parks == ["park@acme.kumo.test auto in 705 720", "park@acme.kumo.test auto in 700 705"]
    assert ("set", "kumo_parked_by=102") in apps(plan)
    assert apps(plan)[-1] == ("hangup", "NORMAL_TEMPORARY_FAILURE")
    render(plan)


def test_refer_to_a_park_slot_through_the_responder(make_tenant, engine, settings, fixtures_dir):
    make_tenant()
    store = LookupStore(engine=engine)
    responder = DialplanResponder(store, settings, clock=lambda: OPEN)
    try:
        document = responder.answer(refer_fields(fixtures_dir, "acme.kumo.test", "101", "705", "102"))
        acts = [(a.get("application"), a.get("data")) for a in etree.fromstring(document).iter("action")]
        assert ("valet_park", "park@acme.kumo.test auto in 705 720") in acts
        assert ("set", "kumo_parked_by=102") in acts
        plain = refer_fields(fixtures_dir, "acme.kumo.test", "101", "705", "102")
        del plain["variable_transfer_history"]
        acts = [
            (a.get("application"), a.get("data"))
            for a in etree.fromstring(responder.answer(plain)).iter("action")
        ]
        assert ("valet_park", "park@acme.kumo.test 705") in acts
    finally:
        store.reset()


def test_parked_too_long_rings_back_the_parker_once(engine, make_tenant, session_factory):
    make_tenant()
    frames = FrameReader().feed(stream_bytes("inbound-plain-park_refer.log.gz"))
    events = []
    for f in frames:
        decoded = decode_event(f)
        if decoded and decoded[0].get("Event-Subclass") == "valet_parking::info":
            # Synthetic rewrite of the lab's lot/slot/user into acme.kumo.test's (lot1/6001 -> 700, 1002 -> 102).
            h = {
                **decoded[0],
                "Valet-Lot-Name": park_lot("acme.kumo.test"),
                "Valet-Extension": "700",
                "variable_sip_h_Referred-By": "<sip:102@acme.kumo.test>",
            }
            events.append(make_event(h))
    hold = events[0]
    build_dispatcher(engine).run_inline([hold])
    parked_at = dt.datetime.fromtimestamp(hold.timestamp_us / 1e6, dt.UTC)
    sent: list[str] = []
    nodes: list[str] = []

    def send_api(command: str, node: str) -> None:
        sent.append(command)
        nodes.append(node)

    timer = ParkTimeouts(engine, send_api, timeout=120, clock=lambda: parked_at + dt.timedelta(seconds=60))
    assert timer.check_once() == 0
    timer.clock = lambda: parked_at + dt.timedelta(seconds=121)
    assert timer.check_once() == 1 and timer.check_once() == 0
    uuid = hold.unique_id
    assert sent[0].startswith(f"api uuid_setvar {uuid} kumo_continuation ")
    assert sent[1] == f"api uuid_transfer {uuid} kumo-parkreturn-102-700 XML acme.kumo.test"
    # Both to the node holding the parked call (the lab switch is named "vm").
    assert nodes == ["vm", "vm"]


def test_park_return_rings_the_parker_then_parks_again():
    snap = make_snapshot()
    plan = plan_continuation(snap, "acme.kumo.test", "kumo-parkreturn-102-705", frozenset(), "101", OPEN)
    assert ("bridge", "user/102@acme.kumo.test") in apps(plan)
    assert ("valet_park", "park@acme.kumo.test auto in 700 720") in apps(plan)
    assert (
        plan_continuation(snap, "acme.kumo.test", "kumo-parkreturn-999-705", frozenset(), "101", OPEN) is None
    )
    render(plan)


# -- pickup -----------------------------------------------------------------------------------------
def test_ringing_an_extension_keeps_its_uuid_and_rings_the_tenants_pickup_group():
    plan = plan_from_phone(make_snapshot(), "101", "102", OPEN)
    acts = apps(plan)
    assert ("hash", "insert/acme.kumo.test-last_dial_ext/102/${uuid}") in acts
    assert ("bridge", "user/102@acme.kumo.test,pickup/group@acme.kumo.test") in acts
    assert acts.index(("hash", "insert/acme.kumo.test-last_dial_ext/102/${uuid}")) < acts.index(
        ("bridge", "user/102@acme.kumo.test,pickup/group@acme.kumo.test")
    )
    render(plan)


def test_group_and_directed_pickup_never_reach_another_tenant():
    for domain in ("acme.kumo.test", "beta.kumo.test"):
        snap = make_snapshot(id=1 if domain.startswith("acme") else 2, domain=domain)
        group = apps(plan_from_phone(snap, "101", "*8", OPEN))
        assert group[-1] == ("pickup", f"group@{domain}")
        directed = plan_from_phone(snap, "101", "**102", OPEN)
        assert ("set", "intercept_unbridged_only=true") in apps(directed)
        assert ("intercept", f"${{hash(select/{domain}-last_dial_ext/102)}}") in apps(directed)
        xml = render(directed).decode()
        assert f"{domain}-last_dial_ext/102" in xml
        other = "beta" if domain.startswith("acme") else "acme"
        assert other not in xml


def test_directed_pickup_of_an_unknown_extension_is_refused():
    assert plan_from_phone(make_snapshot(), "101", "**999", OPEN).refused_by == "invalid_number"


def test_the_renderer_allows_only_the_pickup_hash_expression():
    plan = plan_from_phone(make_snapshot(), "101", "**102", OPEN)
    plan.actions.append(type(plan.actions[0])("intercept", "${hash(select/x/${evil})}"))
    with pytest.raises(RenderError):
        render(plan)


def test_the_capture_pickup_scenario_uses_the_same_applications():
    frames = FrameReader().feed(stream_bytes("inbound-plain-pickup.log.gz"))
    executed = [
        (h.get("Application"), h.get("Application-Data"))
        for h, _ in (decode_event(f) for f in frames if f.content_type == "text/event-plain")
        if h.get("Event-Name") == "CHANNEL_EXECUTE"
    ]
    assert ("pickup", "grp-default@acme.example") in executed
    assert any(
        app == "hash" and re.match(r"insert/acme\.example-last_dial_ext/1002/", data or "")
        for app, data in executed
    )
    assert any(app == "intercept" for app, _ in executed)
