"""Transfers: blind transfer only inside the tenant (else a tone), carrier calls stay transferable and
counted, the consultation call of an attended transfer is an ordinary outbound call, caller IDs.

The dialplan requests are the captured body of `1001 dials 1002` (xml_curl/dialplan-bridge-1002.txt)
rewritten into the hunt that follows a REFER. Synthetic: the transfer variables are set in the shape
the ESL captures inbound-*-transfer.log / park_refer.log show them on the transferred leg
(`transfer_history ...:bl_xfer:<dest>/<context>/XML`, `sip_refer_to`, `sip_h_Referred-By`, and on a
leg that rang a phone `dialed_user`/`dialed_domain` but no `user_name`).
"""

from __future__ import annotations

import urllib.parse

import pytest
from factories import at, make_snapshot
from kumo_support import ACME
from lxml import etree
from planners import plan_blind_transfer, plan_from_carrier, plan_from_phone
from sqlalchemy import select

from fsctl import models
from fsctl.routing.blind_transfer import REFUSED_TONE
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

OPEN = at("2026-12-01 10:00")
DOMAIN = "acme.kumo.test"
LEG_FIELDS = ("variable_user_name", "variable_sip_auth_username", "variable_domain_name")


def apps(plan) -> list[tuple[str, str]]:
    return [(a.app, a.data) for a in plan.actions]


@pytest.fixture
def responder(make_tenant, engine, settings):
    users = [*ACME["users"], {"extension": "103", "name": "鈴木 一郎", "password": "Str0ng-103-pass"}]
    make_tenant(users=users)
    beta_user = {"extension": "101", "name": "beta 101", "password": "Str0ng-b101-pass"}
    make_tenant(domain="beta.kumo.test", users=[beta_user], numbers=[], ring_groups=[], park=None)
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: OPEN)
    store.reset()


def tenant_id(engine, domain: str = DOMAIN) -> int:
    table = models.Tenant.__table__
    with engine.connect() as conn:
        return conn.execute(select(table.c.id).where(table.c.domain == domain)).scalar_one()


def refer_hunt(
    fixtures_dir, dest: str, *, leg: str, referrer: str = "101", host: str = DOMAIN, **extra
) -> dict:
    """The transferee's dialplan request after `referrer` sent REFER to `dest`. `leg`: 'caller' (a
    phone's own leg, user_name 101), 'callee' (the leg that rang 102) or 'carrier'."""
    body = (fixtures_dir / "xml_curl" / "dialplan-bridge-1002.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    for key in LEG_FIELDS:
        fields.pop(key, None)
    fields.update(
        {
            "Hunt-Context": DOMAIN,
            "Caller-Context": DOMAIN,
            "Hunt-Destination-Number": dest,
            "Caller-Destination-Number": dest,
            "variable_transfer_history": f"1795616976:994279d8-b81a-4fb3-8037-0f6e1e352296:bl_xfer:{dest}/{DOMAIN}/XML",
            "variable_sip_h_Referred-By": f"<sip:{referrer}@{host}>",
            "variable_sip_refer_to": f"<sip:{dest}@{host}>",
        }
    )
    if leg == "caller":
        fields.update({"variable_user_name": "101", "variable_domain_name": DOMAIN})
    elif leg == "callee":
        fields.update({"variable_dialed_user": "102", "variable_dialed_domain": DOMAIN})
    fields.update(extra)
    return fields


def actions(document: bytes | None) -> list[tuple[str, str]]:
    assert document is not None
    return [(a.get("application"), a.get("data") or "") for a in etree.fromstring(document).iter("action")]


# -- blind transfer ------------------------------------------------------------------------------
@pytest.mark.parametrize("leg", ["caller", "callee"])
def test_a_blind_transfer_to_an_extension_rings_it(responder, fixtures_dir, leg):
    referrer = "102" if leg == "caller" else "101"
    acts = actions(responder.answer(refer_hunt(fixtures_dir, "103", leg=leg, referrer=referrer)))
    assert any(app == "bridge" and data.startswith(f"user/103@{DOMAIN}") for app, data in acts)
    # a phone's leg keeps the caller ID the directory gives it (effective_caller_id_* of that user)
    assert not any(data.startswith("effective_caller_id") for _, data in acts)


@pytest.mark.parametrize("leg", ["caller", "callee"])
@pytest.mark.parametrize("dest", ["0311112222", "09012345678", "0120123456", "0312345678", "110"])
def test_a_blind_transfer_to_anything_but_an_extension_is_refused_with_a_tone(
    responder, fixtures_dir, leg, dest
):
    acts = actions(responder.answer(refer_hunt(fixtures_dir, dest, leg=leg)))
    assert acts == [("playback", REFUSED_TONE), ("hangup", "OUTGOING_CALL_BARRED")]


def test_a_blind_transfer_to_a_park_slot_or_a_voicemail_box_stays_inside(responder, fixtures_dir):
    parked = actions(responder.answer(refer_hunt(fixtures_dir, "705", leg="callee")))
    assert ("valet_park", f"park@{DOMAIN} auto in 705 720") in parked


def test_a_carrier_call_transferred_by_a_phone_rings_the_extension_with_the_callers_number(
    responder, fixtures_dir, engine
):
    fields = refer_hunt(
        fixtures_dir,
        "103",
        leg="carrier",
        **{
            "variable_kumo_transfer_tenant": str(tenant_id(engine)),
            "Caller-Caller-ID-Number": "+81311112222",
        },
    )
    acts = actions(responder.answer(fields))
    assert ("set", "effective_caller_id_number=0311112222") in acts
    assert ("set", "effective_caller_id_name=0311112222") in acts  # not "Outbound Call"
    # still counted in the tenant's external channels, never refused for it
    assert ("set", "limit_ignore_transfer=true") in acts
    assert ("limit", f"hash kumo_external {tenant_id(engine)} -1") in acts
    assert any(app == "bridge" and data.startswith(f"user/103@{DOMAIN}") for app, data in acts)


def test_a_leg_nobody_marked_is_not_routed_in_a_tenants_context(responder, fixtures_dir, engine):
    other = str(tenant_id(engine, "beta.kumo.test"))
    for extra in ({}, {"variable_kumo_transfer_tenant": other}):
        plan = responder.plan(refer_hunt(fixtures_dir, "103", leg="carrier", **extra))
        assert plan.refused_by == "context_mismatch", extra


def test_a_transfer_from_another_tenants_phone_is_refused(responder, fixtures_dir):
    # On an on-net call, beta's phone transfers acme's caller: acme's 103 is not beta's 103.
    plan = responder.plan(refer_hunt(fixtures_dir, "103", leg="caller", host="beta.kumo.test"))
    assert plan.refused_by == "blind_transfer_foreign"
    assert apps(plan)[-2:] == [("playback", REFUSED_TONE), ("hangup", "OUTGOING_CALL_BARRED")]


def test_a_call_the_phone_dials_itself_is_not_a_blind_transfer(responder, fixtures_dir):
    fields = refer_hunt(fixtures_dir, "0311112222", leg="caller")
    del fields["variable_transfer_history"]
    plan = responder.plan(fields)
    assert plan.kind == "outbound" and plan.refused_by is None


def test_plan_level_voicemail_target():
    plan = plan_blind_transfer(make_snapshot(), "102", "*99101", OPEN, referred_by="101")
    assert plan.refused_by is None and apps(plan)[-1] == ("voicemail", f"default {DOMAIN} 101")


# -- attended transfer: the consultation call is an ordinary call ---------------------------------
def test_the_consultation_call_of_an_attended_transfer_passes_the_outbound_rules():
    import datetime as dt
    from dataclasses import replace

    snap = make_snapshot()
    assert plan_from_phone(snap, "101", "0311112222", OPEN).kind == "outbound"
    trial = replace(snap, status="trial", trial_started_on=dt.date(2026, 11, 20))
    assert plan_from_phone(trial, "101", "0311112222", OPEN).refused_by == "trial_internal_only"
    assert plan_from_phone(snap, "101", "0101215551234", OPEN).refused_by == "international_disabled"
    limits = [d for a, d in apps(plan_from_phone(snap, "101", "0311112222", OPEN)) if a == "limit"]
    assert "hash kumo_external 1 4 !USER_BUSY" in limits
    # the far party's leg is marked so that the phone may blind-transfer it inside the tenant
    assert ("export", "nolocal:kumo_transfer_tenant=1") in apps(
        plan_from_phone(snap, "101", "0311112222", OPEN)
    )


# -- carrier calls ---------------------------------------------------------------------------------
def test_a_carrier_call_stays_transferable_counted_and_shows_a_national_number():
    plan = plan_from_carrier(make_snapshot(), "0312345001", "+81311112222", OPEN, national="0312345001")
    acts = apps(plan)
    limit = acts.index(("limit", "hash kumo_external 1 4 !USER_BUSY"))
    # limit_ignore_transfer is read when the channel re-enters routing (switch_limit.c), not at `limit`
    assert ("set", "limit_ignore_transfer=true") in acts[limit:]
    assert ("set", f"force_transfer_context={DOMAIN}") in acts
    assert ("set", "kumo_transfer_tenant=1") in acts
    assert ("set", "effective_caller_id_number=0311112222") in acts
    bridge = next(i for i, (a, _) in enumerate(acts) if a == "bridge")
    assert (
        max(acts.index(a) for a in acts if a[1].startswith(("force_transfer", "effective_caller"))) < bridge
    )


def test_phones_are_told_the_new_party_after_a_transfer():
    # sofia's default send-display-update (on) sends the phone an UPDATE/re-INVITE with the new
    # party's ID (Remote-Party-ID, the default caller-id-type) after a transfer or a pickup; the
    # phones' profile must not turn either off.
    from pathlib import Path

    profile = etree.parse(str(Path(__file__).resolve().parents[2] / "freeswitch/sip_profiles/internal.xml"))
    display = profile.find(".//param[@name='send-display-update']")
    assert display is None or display.get("value") == "true"
    cid_type = profile.find(".//param[@name='caller-id-type']")
    assert cid_type is None or cid_type.get("value") in ("rpid", "pid")
