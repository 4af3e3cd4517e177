"""`fsctl apply` / `export` of the gateways section: hashing, validation by path, round trip."""

from __future__ import annotations

import copy
import hashlib

import pytest
from gw_helpers import BETA, GW_PASSWORD, gateway_doc
from sqlalchemy import select

from fsctl import db, models
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file


def _apply(session_factory, doc):
    with db.session_scope(session_factory) as session:
        return tenant_file().apply(session, copy.deepcopy(doc))


def _errors(session_factory, doc) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _apply(session_factory, doc)
    return [str(error) for error in info.value.errors]


def test_apply_stores_gateways_numbers_and_routes(session_factory):
    _apply(session_factory, gateway_doc())
    with db.session_scope(session_factory) as session:
        gws = {g.name: g for g in session.scalars(select(models.Gateway))}
        honsha, osaka = gws["honsha"], gws["osaka"]
        assert honsha.auth == models.GatewayAuth.CREDENTIALS and honsha.channels == 4
        assert honsha.a1_hash == hashlib.md5(f"honsha:acme.kumo.test:{GW_PASSWORD}".encode()).hexdigest()
        assert osaka.auth == models.GatewayAuth.ADDRESS and osaka.a1_hash is None
        assert (osaka.address, osaka.port, osaka.cidr) == ("203.0.113.10", 5070, "203.0.113.8/29")
        assert [(c.national, c.e164) for c in honsha.numbers] == [
            ("0355550100", "+81355550100"),
            ("0355550101", "+81355550101"),
        ]
        assert honsha.numbers[0].destination.ring_group.name == "reception"
        # Carried numbers are not the platform's inventory: nothing to bill at 100 yen, nothing to claim.
        assert session.scalar(select(models.Number).where(models.Number.national == "0355550100")) is None
        routes = {(r.user_id is None, r.gateway_id) for r in session.scalars(select(models.OutboundRoute))}
        assert routes == {(True, honsha.id), (False, None)}


def test_export_round_trips_without_passwords_and_is_idempotent(session_factory):
    first = _apply(session_factory, gateway_doc())
    with db.session_scope(session_factory) as session:
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
    assert "password" not in str(exported["gateways"]) and GW_PASSWORD not in str(exported)
    assert exported["outbound_via"] == "honsha"
    assert [u.get("outbound_via") for u in exported["users"]] == [None, "carrier"]
    assert exported["gateways"][1] == {
        "name": "osaka",
        "address": "203.0.113.10",
        "cidr": ["203.0.113.8/29"],
        "port": 5070,
        "channels": 8,
        "numbers": [{"number": "0666660100", "destination": {"voicemail": "101"}}],
    }
    with db.session_scope(session_factory) as session:
        # The exported file (no password) keeps the stored credentials; nothing changes.
        assert tenant_file().apply(session, copy.deepcopy(exported)).changed is False
        session.rollback()
    with db.session_scope(session_factory) as session:
        assert tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test")) == exported
    changed = gateway_doc()
    changed["gateways"][0] = dict(changed["gateways"][0], channels=16)
    result = _apply(session_factory, changed)
    assert result.changed and result.config_version > first.config_version


def test_gateways_not_in_the_file_are_removed(session_factory):
    _apply(session_factory, gateway_doc())
    doc = gateway_doc(gateways=[], outbound_via="carrier")
    del doc["users"][1]["outbound_via"]
    _apply(session_factory, doc)
    with db.session_scope(session_factory) as session:
        assert session.scalars(select(models.Gateway)).all() == []
        assert session.scalars(select(models.GatewayNumber)).all() == []
        assert session.scalars(select(models.OutboundRoute)).all() == []


def test_refuses_bad_gateways_by_path(session_factory):
    doc = gateway_doc()
    doc["gateways"][0] = dict(doc["gateways"][0], channels=6)
    doc["gateways"][1] = dict(doc["gateways"][1], cidr=["198.51.100.0/29"])
    doc["users"][0]["outbound_via"] = "nagoya"
    errors = _errors(session_factory, doc)
    assert "gateways[0].channels: a channel plan: 4, 8, 16 or 32" in errors
    assert "gateways[1].cidr: the address must lie inside one of the cidr networks" in errors
    doc = gateway_doc(outbound_via="nagoya")
    doc["gateways"][1] = dict(
        doc["gateways"][1], numbers=[{"number": "0355550100"}, {"number": "0312345678"}]
    )
    doc["users"][0]["outbound_via"] = "nagoya"
    errors = _errors(session_factory, doc)
    assert "outbound_via: no gateway named 'nagoya'" in errors
    assert "users[0].outbound_via: no gateway named 'nagoya'" in errors
    assert "gateways[1].numbers[0].number: 0355550100 is already carried by gateways[0].numbers[0]" in errors
    assert "gateways[1].numbers[1].number: 0312345678 is also one of the tenant's platform numbers" in errors


def test_a_new_registering_gateway_needs_a_password_and_open_acls_are_refused(session_factory):
    doc = gateway_doc()
    del doc["gateways"][0]["password"]
    assert "gateways[0].password: required for a new registering gateway" in _errors(session_factory, doc)
    doc = gateway_doc()
    doc["gateways"][1] = dict(doc["gateways"][1], address="203.0.113.10", cidr=["203.0.0.0/16"])
    assert any("wider than a /24" in e for e in _errors(session_factory, doc))


def test_another_tenants_carried_or_inventory_number_is_refused(session_factory):
    _apply(session_factory, BETA)
    doc = gateway_doc()
    doc["gateways"][0]["numbers"] = [{"number": "0677770000"}, {"number": "0612340000"}]
    errors = _errors(session_factory, doc)
    assert errors == [
        "gateways[0].numbers[0].number: 0677770000 is carried by another tenant's gateway",
        "gateways[0].numbers[1].number: 0612340000 is a number of the platform's inventory",
    ]


def test_user_caller_id_may_be_a_carried_number(session_factory):
    doc = gateway_doc()
    doc["users"][0]["caller_id"] = "0355550101"
    _apply(session_factory, doc)
    doc["users"][0]["caller_id"] = "0399999999"
    assert "users[0].caller_id: 0399999999 is not one of this tenant's numbers" in _errors(
        session_factory, doc
    )
