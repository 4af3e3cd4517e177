"""Tenant files with customer gateways, shared by the gateway tests."""

from __future__ import annotations

from typing import Any

from kumo_support import tenant_doc

GW_PASSWORD = "Gw-secret-0001"
HONSHA = {
    "name": "honsha",
    "password": GW_PASSWORD,
    "channels": 4,
    "numbers": [
        {"number": "0355550100", "destination": {"ring_group": "reception"}},
        {"number": "03-5555-0101", "destination": {"user": "101"}},
    ],
}
OSAKA = {
    "name": "osaka",
    "address": "203.0.113.10",
    "port": 5070,
    "cidr": ["203.0.113.8/29"],
    "channels": 8,
    "numbers": [{"number": "0666660100", "destination": {"voicemail": "101"}}],
}


def gateway_doc(**overrides: Any) -> dict[str, Any]:
    """acme with a registering gateway (honsha, 4 ch) and a static one (osaka, 8 ch); out via honsha."""
    doc = tenant_doc(gateways=[dict(HONSHA), dict(OSAKA)], outbound_via="honsha")
    doc["users"] = [dict(u) for u in doc["users"]]
    doc["users"][1]["outbound_via"] = "carrier"
    doc.update(overrides)
    return doc


BETA = {
    "domain": "beta.kumo.test",
    "name": "ベータ",
    "status": "active",
    "users": [{"extension": "201", "name": "Beta 201", "password": "Str0ng-201-pass"}],
    "numbers": [{"number": "0612340000", "destination": {"user": "201"}}],
    "gateways": [
        {
            "name": "beta-gw",
            "password": "Beta-gw-pass-01",
            "channels": 8,
            "numbers": [{"number": "0677770000", "destination": {"user": "201"}}],
        }
    ],
    "outbound_via": "beta-gw",
}
