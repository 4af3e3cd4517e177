"""Issue 14 item 19: `${...}` in display and company names never makes the switch run anything.

Each name carries an api call that would create a file if the switch ever expanded it (through
the directory, a dialplan `set`, a bridge's caller ID, a SIP header it copies into a variable).
Every call path is run; the files must never appear.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.phones import free_udp_port
from e2e.tenants import TENANTS, Tenant


def _forms(marker: Path) -> list[str]:
    return [
        f"${{system(touch {marker}-a)}}",
        f"$${{system touch {marker}-b}}",
        f"${{bg_system(touch {marker}-c)}}",
        f"x${{expr(1+1)}}${{system(touch {marker}-d)}}",
    ]


@pytest.fixture(scope="module")
def evil(e2e) -> tuple[Tenant, Path]:
    marker = e2e.workdir / "pwned"
    forms = _forms(marker)
    doc = {
        "domain": "evil.e2e.test",
        "name": forms[0],
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {
                "extension": "101",
                "name": forms[1],
                "password": "E2e-evil-101-pass",
                "caller_id": "0366660000",
            },
            {"extension": "102", "name": forms[2], "password": "E2e-evil-102-pass", "did": "0366660002"},
        ],
        "numbers": [{"number": "0366660000", "destination": {"ring_group": "all"}}],
        "ring_groups": [{"name": "all", "members": ["101", "102"], "ring_seconds": 10}],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant  # so e2e.phone() finds the passwords
    return tenant, marker


def _planted(marker: Path) -> list[Path]:
    return sorted(marker.parent.glob(marker.name + "*"))


def test_names_with_api_calls_never_run_on_any_call_path(e2e, evil) -> None:
    tenant, marker = evil
    forms = _forms(marker)
    first = e2e.registered_phone(tenant.domain, "101", display=forms[3])
    second = e2e.registered_phone(tenant.domain, "102", display=forms[0])

    # extension to extension, the caller's own SIP display name carrying a call too
    answering = second.answer()
    call = first.call("102", talk_ms=300, display=forms[3])
    assert call.wait().ok, call.responses()
    assert answering.wait().ok

    # out through the carrier with the user's and company's names
    carrier = e2e.carrier().answer()
    call = first.call("0612345678", talk_ms=300, display=forms[1])
    assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    # kumo strips such text before it reaches the switch (DECISIONS 26): the carrier sees none.
    invite = carrier.requests("INVITE")[0]
    assert "${" not in invite and "0366660000" in invite.replace("+81", "0")

    # in from the carrier to the group and to a DID, the carrier's display name carrying a call
    answering = second.answer()
    ringing = first.answer(scenario="uas_noanswer")
    call = e2e.carrier_call("0366660000", caller="0355550000", talk_ms=300)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok and ringing.wait().ok

    answering = second.answer()
    keys = {"user": "0355550000", "to_user": "0366660002", "display": forms[2]}
    run = e2e.sipp.start("carrier_uac", e2e.carrier_profile, free_udp_port(), keys, duration_ms=300)
    assert run.wait().ok, run.responses()
    assert answering.wait().ok

    assert _planted(marker) == []
    # The switch itself refuses `system`: kumo's vars.xml turns the api off (DECISIONS 26).
    assert e2e.switch.api(f"system touch {marker}-direct").startswith("-ERR")
    assert _planted(marker) == []
