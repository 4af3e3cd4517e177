from __future__ import annotations

import pytest
from kumo_support import tenant_doc

from fsctl.numbering import default_plan
from fsctl.routing.validate import validate_routing
from fsctl.schemas import TenantConfigSchema
from fsctl.tenant_file import ConfigError, FieldError
from fsctl.wiring import tenant_file


def errors_of(**overrides):
    return [
        str(FieldError(*problem))
        for problem in validate_routing(TenantConfigSchema().load(tenant_doc(**overrides)), default_plan())
    ]


USERS = [
    {"extension": "101", "name": "A", "password": "Str0ng-101-pass", "forward": {"always": {"user": "102"}}},
    {"extension": "102", "name": "B", "password": "Str0ng-102-pass", "forward": {"always": {"user": "101"}}},
]


def test_the_default_tenant_is_clean():
    assert errors_of() == []


def test_forward_loop():
    errors = errors_of(users=USERS)
    assert "users[0].forward.always: forwards in a loop 101 -> 102 -> 101" in errors
    assert "users[1].forward.always: forwards in a loop 102 -> 101 -> 102" in errors


def test_ring_group_without_members():
    # Checked with the other references, before the routing checks run.
    with pytest.raises(ConfigError) as raised:
        tenant_file().load(tenant_doc(ring_groups=[{"name": "reception", "members": []}]))
    assert "ring_groups[0].members: a ring group needs at least one member" in map(str, raised.value.errors)


def test_week_not_covered_when_full_coverage_is_asked():
    schedule = {
        "name": "office",
        "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
        "open_destination": {"ring_group": "reception"},
        "full_coverage": True,
    }
    errors = errors_of(schedules=[schedule])
    assert any(e.startswith("schedules[0].open: the week is not covered (Mon 00:00-09:00") for e in errors)
    assert errors_of(schedules=[{**schedule, "full_coverage": False}]) == []
    always = {
        "name": "always",
        "open": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "00:00", "to": "24:00"}],
        "open_destination": {"user": "101"},
        "full_coverage": True,
    }
    assert errors_of(schedules=[always]) == []


def test_destinations_that_cannot_work():
    numbers = [
        {"number": "0312345678", "destination": {"user": "102"}},
        {"number": "0312345679", "destination": {"external": "110"}},
    ]
    users = [
        {"extension": "101", "name": "A", "password": "Str0ng-101-pass", "voicemail": {"enabled": False}},
        {
            "extension": "102",
            "name": "B",
            "password": "Str0ng-102-pass",
            "direction": "outbound_only",
            "forward": {"no_answer": {"voicemail": "101"}},
        },
    ]
    errors = errors_of(users=users, numbers=numbers, ring_groups=[])
    assert "numbers[0].destination.user: 102 is an outbound-only line and cannot receive calls" in errors
    assert "numbers[1].destination.external: 110 cannot be a forwarding target (emergency)" in errors
    assert "users[1].forward.no_answer.voicemail: 101 has voicemail disabled" in errors
