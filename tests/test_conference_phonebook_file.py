"""Conference rooms and the shared phonebook in the tenant file (apply / export), as routing reads them,
on the monthly statement's held items, and the file's coded errors."""

from __future__ import annotations

import pytest
import yaml
from kumo_support import tenant_doc
from planners import plan_from_carrier, plan_from_phone
from routing.factories import at

from fsctl import db, models
from fsctl.billing.subscriptions import held_now
from fsctl.snapshots import session_rows
from fsctl.tenant_file import ConfigError
from fsctl.wiring import billable_items, snapshots, tenant_file

ROOMS = [
    {"number": "800", "name": "大会議室", "pin": "4321", "max_members": 5},
    {"number": "801"},
]
PHONEBOOK = [
    {"name": "株式会社アクメ商事", "numbers": ["03-9876-5432", "+819012345678"], "company": "アクメ商事"},
    {"name": "Bob", "numbers": ["0451112222"], "note": "supplier"},
]


def _snap(session):
    return snapshots().by_domain(session_rows(session), "acme.kumo.test")


def _version(session) -> int:
    return db.tenant_by_domain(session, "acme.kumo.test").config_version


def test_apply_stores_rooms_and_entries_and_export_writes_them_back(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS, phonebook=PHONEBOOK))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
        assert snap.rooms["800"].pin == "4321" and snap.rooms["800"].max_members == 5
        assert snap.rooms["801"].pin is None and snap.rooms["801"].max_members == 10
        # Numbers in national form, whatever way they were written.
        assert snap.phonebook == {
            "0398765432": "株式会社アクメ商事",
            "09012345678": "株式会社アクメ商事",
            "0451112222": "Bob",
        }
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
    assert exported["conference_rooms"] == [
        {"number": "800", "name": "大会議室", "pin": "4321", "max_members": 5},
        {"number": "801", "name": "", "pin": None, "max_members": 10},
    ]
    assert exported["phonebook"][0] == {
        "name": "株式会社アクメ商事",
        "numbers": ["0398765432", "09012345678"],
        "company": "アクメ商事",
        "note": "",
    }
    with db.session_scope(session_factory) as session:
        before = _version(session)
        again = yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True))
        assert tenant_file().apply(session, again).changed is False
    with db.session_scope(session_factory) as session:
        assert _version(session) == before


def test_a_changed_entry_bumps_the_version_and_removed_ones_are_gone(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS, phonebook=PHONEBOOK))
    with db.session_scope(session_factory) as session:
        before = _version(session)
        changed = tenant_doc(conference_rooms=ROOMS[:1], phonebook=[{**PHONEBOOK[0], "name": "アクメ"}])
        assert tenant_file().apply(session, changed).changed
    with db.session_scope(session_factory) as session:
        assert _version(session) == before + 1
        snap = _snap(session)
        assert list(snap.rooms) == ["800"]
        assert snap.phonebook == {"0398765432": "アクメ", "09012345678": "アクメ"}
        assert session.query(models.PhonebookEntry).count() == 1


@pytest.mark.parametrize(
    ("extra", "path", "code"),
    [
        ({"conference_rooms": [{"number": "101"}]}, ("conference_rooms", 0, "number"), "room_is_extension"),
        ({"conference_rooms": [{"number": "705"}]}, ("conference_rooms", 0, "number"), "room_is_park_slot"),
        (
            {"conference_rooms": [{"number": "800"}, {"number": "800"}]},
            ("conference_rooms", 1, "number"),
            "room_twice",
        ),
        (
            {
                "phonebook": [
                    {"name": "A", "numbers": ["0398765432"]},
                    {"name": "B", "numbers": ["03-9876-5432"]},
                ]
            },
            ("phonebook", 1, "numbers", 0),
            "phonebook_number_twice",
        ),
    ],
)
def test_the_file_refuses_clashes_naming_the_field(session_factory, extra, path, code):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, tenant_doc(**extra))
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"conference_rooms": [{"number": "800", "pin": "12"}]}, ("conference_rooms", 0, "pin")),
        ({"conference_rooms": [{"number": "800", "max_members": 1}]}, ("conference_rooms", 0, "max_members")),
        ({"conference_rooms": [{"number": "0800"}]}, ("conference_rooms", 0, "number")),
        ({"phonebook": [{"name": "A", "numbers": ["12345"]}]}, ("phonebook", 0, "numbers", 0)),
        ({"phonebook": [{"name": "", "numbers": ["0398765432"]}]}, ("phonebook", 0, "name")),
    ],
)
def test_bad_values_are_refused_naming_the_field(session_factory, extra, path):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, tenant_doc(**extra))
    assert path in [e.path for e in refused.value.errors]


def test_a_phone_dialling_a_room_joins_the_tenants_conference_with_its_pin(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    plan = plan_from_phone(snap, "101", "800", at("2026-12-07 10:00"))
    actions = [(a.app, a.data) for a in plan.actions]
    assert ("conference", "800-acme.kumo.test@kumo+4321") in actions
    assert ("set", "conference_max_members=5") in actions
    assert ("set", "conference_moh_sound=local_stream://moh") in actions
    assert actions[-1] == ("hangup", "NORMAL_CLEARING")  # a wrong PIN every time, or the room was full
    assert any("PIN asked" in d.why and "acme.kumo.test" in d.why for d in plan.decisions)
    open_room = [(a.app, a.data) for a in plan_from_phone(snap, "101", "801", at("2026-12-07 10:00")).actions]
    assert ("conference", "801-acme.kumo.test@kumo") in open_room


def test_a_number_or_menu_option_leads_to_a_room_by_its_number(session_factory):
    doc = tenant_doc(
        conference_rooms=ROOMS, numbers=[{"number": "0312345678", "destination": {"external": "800"}}]
    )
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    plan = plan_from_carrier(
        snap, "+81312345678", "+81398765432", at("2026-12-07 10:00"), national="0312345678"
    )
    assert ("conference", "800-acme.kumo.test@kumo+4321") in [(a.app, a.data) for a in plan.actions]
    assert plan.refused_by is None


def test_a_carrier_call_from_a_phonebook_number_shows_the_entrys_name(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(phonebook=PHONEBOOK))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    plan = plan_from_carrier(
        snap, "+81312345678", "+81398765432", at("2026-12-07 10:00"), national="0312345678"
    )
    actions = [(a.app, a.data) for a in plan.actions]
    name = actions.index(("set", "effective_caller_id_name=株式会社アクメ商事"))
    assert name < next(i for i, a in enumerate(actions) if a[0] == "bridge")
    assert any(d.what == "caller 0398765432 is 株式会社アクメ商事 in the phonebook" for d in plan.decisions)
    unknown = plan_from_carrier(
        snap, "+81312345678", "+81311112222", at("2026-12-07 10:00"), national="0312345678"
    )
    assert not any(a.data.startswith("effective_caller_id_name=") for a in unknown.actions)


def test_rooms_and_the_phonebook_are_held_items(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS, phonebook=PHONEBOOK))
    with db.session_scope(session_factory) as session:
        held = held_now(session, db.tenant_by_domain(session, "acme.kumo.test"), billable_items())
    assert {("conference_room", "800"), ("conference_room", "801"), ("phonebook", "")} <= held


def test_the_rendered_dialplan_joins_the_room_in_the_callers_language(session_factory):
    from lxml import etree

    from fsctl.xml.dialplan import render

    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    document = etree.fromstring(render(plan_from_phone(snap, "101", "800", at("2026-12-07 10:00"))))
    actions = [(a.get("application"), a.get("data")) for a in document.iter("action")]
    # The PIN prompt is a relative kumo prompt, found under the tenant's language's sound_prefix.
    assert actions.index(("set", "sound_prefix=${sounds_dir}/ja/jp")) < actions.index(
        ("conference", "800-acme.kumo.test@kumo+4321")
    )


def test_a_call_through_the_tenants_gateway_shows_the_phonebook_name_too():
    from dataclasses import replace

    from planners import plan_from_gateway
    from routing.factories import make_snapshot

    from fsctl.routing.snapshot import CarriedSnap, Dest, GatewaySnap

    snap = replace(
        make_snapshot(),
        gateways={"office": GatewaySnap(7, "office", "credentials", 4, numbers=("0312340000",))},
        carried={"0312340000": CarriedSnap("0312340000", "+81312340000", "office", Dest("user", "101"))},
        phonebook={"0398765432": "アクメ商事"},
    )
    plan = plan_from_gateway(
        snap, 7, "0312340000", "0398765432", at("2026-12-07 10:00"), national="0312340000"
    )
    assert ("set", "effective_caller_id_name=アクメ商事") in [(a.app, a.data) for a in plan.actions]


def test_the_options_cost_nothing_until_the_operator_prices_them():
    import dataclasses
    import datetime as dt

    from fsctl.billing.prices import default_prices
    from fsctl.billing.statement import monthly_lines

    period = default_prices().at(dt.date(2026, 12, 1))
    assert (period.monthly["option_conference_room"], period.monthly["option_phonebook"]) == (0, 0)
    items = {"user": {"101"}, "conference_room": {"800", "801"}, "phonebook": {""}}
    assert [line["code"] for line in monthly_lines(items, period)] == ["base_fee"]  # no 0-yen lines
    priced = dataclasses.replace(
        period, monthly={**period.monthly, "option_conference_room": 300, "option_phonebook": 200}
    )
    lines = {line["code"]: line for line in monthly_lines(items, priced)}
    assert lines["option_conference_room"]["amount_yen"] == 600
    assert lines["option_phonebook"]["amount_yen"] == 200


def test_the_panel_may_point_a_number_at_a_room(session_factory):
    """The save-time check of an outside-number destination (what the panel runs) accepts a room."""
    from fsctl.numbering import default_plan
    from fsctl.routing.calls import external_destination_refusal

    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(conference_rooms=ROOMS))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    assert external_destination_refusal(snap, "800", at("2026-12-07 10:00"), default_plan()) is None
    refused = external_destination_refusal(snap, "802", at("2026-12-07 10:00"), default_plan())
    assert refused is not None and refused[0] == "forward_target"
