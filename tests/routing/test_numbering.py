from __future__ import annotations

import pytest

from fsctl.numbering import NumberingError, classify, default_plan, load_plan
from fsctl.routing.snapshot import TenantSnap, UserSnap

TENANT = TenantSnap(
    id=1, domain="acme.kumo.test", name="acme", users={"101": UserSnap("101", "a")}, park_ranges=((700, 719),)
)


@pytest.mark.parametrize(
    ("dialled", "kind", "number"),
    [
        ("110", "emergency", "110"),
        ("118", "emergency", "118"),
        ("119", "emergency", "119"),
        ("101", "extension", "101"),
        ("705", "park_slot", "705"),
        ("*8", "feature", "*8"),
        ("**101", "feature", "**101"),
        ("*98", "feature", "*98"),
        ("0312345678", "fixed", "0312345678"),
        ("+81312345678", "fixed", "0312345678"),
        ("09012345678", "mobile", "09012345678"),
        ("07012345678", "mobile", "07012345678"),
        ("05012345678", "ip", "05012345678"),
        ("0120123456", "toll_free", "0120123456"),
        ("08001234567", "toll_free", "08001234567"),
        ("01012025550100", "international", "+12025550100"),
        ("+12025550100", "international", "+12025550100"),
        ("171", "service", "171"),
        ("0570123456", "service", "0570123456"),
        ("104", "service", "104"),
        ("abc", "invalid", ""),
        ("0312", "invalid", "0312"),
    ],
)
def test_classify(dialled, kind, number):
    result = classify(dialled, TENANT)
    assert (result.kind, result.number) == (kind, number)


@pytest.mark.parametrize("prefix", ["0570", "0990", "0180", "020", "00"])
def test_premium_and_carrier_prefixes_are_blocked_by_default(prefix):
    number = (prefix + "1234567890")[:10] if prefix != "020" else "02012345678"
    result = classify(number, TENANT)
    assert result.kind == "service" and result.blocked_prefix == prefix


def test_disaster_dial_is_allowed_and_other_three_digit_services_are_not():
    assert classify("171", TENANT).blocked_prefix is None
    assert classify("177", TENANT).blocked_prefix == "1"


def test_184_withholds_and_186_presents():
    withheld = classify("1840312345678", TENANT)
    presented = classify("1860312345678", TENANT)
    assert (withheld.kind, withheld.number, withheld.privacy) == ("fixed", "0312345678", "withhold")
    assert presented.privacy == "present"


def test_on_net_lookup():
    result = classify("0362800001", TENANT, on_net=lambda n: n == "0362800001")
    assert result.kind == "on_net"


def test_emergency_beats_an_extension_with_the_same_digits():
    tenant = TenantSnap(id=1, domain="d.test", name="d", users={"110": UserSnap("110", "x")})
    assert classify("110", tenant).kind == "emergency"


def test_feature_codes_are_reserved():
    features = default_plan().features
    assert features["pickup_group"] == "*8"
    assert features["voicemail_access"] == "*98"


def test_bad_numbering_file_is_refused(tmp_path):
    (tmp_path / "numbering.yaml").write_text(
        "emergency: []\nwithhold_prefix: '184'\npresent_prefix: '186'\n"
        "emergency_caller_id: '0300000000'\nrules: [{name: x, kind: bogus, pattern: '('}]\n"
    )
    (tmp_path / "features.yaml").write_text("pickup_group: '*8'\n")
    with pytest.raises(NumberingError) as err:
        load_plan(tmp_path)
    assert "emergency" in str(err.value) and "rules[0].kind" in str(err.value)
