"""`users[].do_not_disturb` in the tenant file: applied, exported, round-tripped; a file that does not
mention it leaves it as the phone or the panel set it."""

from __future__ import annotations

import copy

import pytest
import yaml
from kumo_support import tenant_doc

from fsctl import db
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file


def _users(session_factory) -> tuple[dict[str, bool], int, dict]:
    with db.session_scope(session_factory) as session:
        acme = db.tenant_by_domain(session, "acme.kumo.test")
        exported = tenant_file().export(acme)
        return {u.extension: u.do_not_disturb for u in acme.users}, acme.config_version, exported


def _apply(session_factory, doc: dict):
    with db.session_scope(session_factory) as session:
        return tenant_file().apply(session, doc)


def test_do_not_disturb_applies_exports_and_round_trips(session_factory, make_tenant):
    make_tenant()
    states, version, exported = _users(session_factory)
    assert states == {"101": False, "102": False}
    assert [u["do_not_disturb"] for u in exported["users"]] == [False, False]

    doc = tenant_doc()
    doc["users"][0]["do_not_disturb"] = True
    assert _apply(session_factory, doc).changed is True
    states, bumped, exported = _users(session_factory)
    assert states == {"101": True, "102": False} and bumped > version
    assert exported["users"][0]["do_not_disturb"] is True

    # export -> apply is a no-op, and the document is the same after it
    again = _apply(session_factory, yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True)))
    assert again.changed is False
    assert _users(session_factory)[1:] == (bumped, exported)


def test_a_file_without_it_leaves_it_as_set(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    on = copy.deepcopy(doc)
    on["users"][0]["do_not_disturb"] = True
    _apply(session_factory, on)
    assert "do_not_disturb" not in doc["users"][0]
    assert _apply(session_factory, doc).changed is False
    assert _users(session_factory)[0]["101"] is True
    off = copy.deepcopy(doc)
    off["users"][0]["do_not_disturb"] = False
    assert _apply(session_factory, off).changed is True
    assert _users(session_factory)[0]["101"] is False


def test_not_a_boolean_is_refused_naming_the_field(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    doc["users"][1]["do_not_disturb"] = "sometimes"
    with pytest.raises(ConfigError) as refused:
        _apply(session_factory, doc)
    assert "users[1].do_not_disturb" in str(refused.value)
