"""The tenants every end-to-end session applies with `fsctl apply` (written out as YAML files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tenant:
    doc: dict[str, Any]

    @property
    def domain(self) -> str:
        return self.doc["domain"]

    def password(self, extension: str) -> str:
        for user in self.doc["users"]:
            if user["extension"] == extension:
                return user["password"]
        raise KeyError(f"{extension}@{self.domain}")


def _user(ext: str, tenant: str, **more: Any) -> dict[str, Any]:
    return {"extension": ext, "name": f"User {ext}", "password": f"E2e-{tenant}-{ext}-pass", **more}


ACME = Tenant(
    {
        "domain": "acme.e2e.test",
        "name": "Acme E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "international_calls": False,
        "max_external_channels": 2,
        "users": [
            _user("101", "acme", caller_id="0312345678", did="0312345001"),
            _user("102", "acme", caller_id="0312345678"),
            _user("103", "acme", voicemail={"enabled": True, "pin": "4321"}),
            _user("104", "acme"),
            # Never registers or calls: the switch has never been told about it (fail-closed test).
            _user("105", "acme"),
        ],
        "numbers": [
            {"number": "0312345678", "destination": {"ring_group": "reception"}},
            {"number": "0312345679", "destination": {"ring_group": "line"}},
        ],
        "ring_groups": [
            {"name": "reception", "members": ["101", "102"], "ring_seconds": 20},
            {"name": "line", "members": ["103", "104"], "strategy": "sequential", "ring_seconds": 5},
        ],
        "park": {"slots": "700-719"},
    }
)

# Same extension as acme's: isolation.
BETA = Tenant(
    {
        "domain": "beta.e2e.test",
        "name": "Beta E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "international_calls": True,
        "max_external_channels": 4,
        "users": [_user("101", "beta", caller_id="0322220000"), _user("102", "beta")],
        "numbers": [{"number": "0322220000", "destination": {"user": "101"}}],
    }
)

TRIAL = Tenant(
    {
        "domain": "trial.e2e.test",
        "name": "Trial E2E",
        "timezone": "Asia/Tokyo",
        "status": "trial",
        "max_external_channels": 2,
        "users": [_user("101", "trial"), _user("102", "trial")],
    }
)

SUSPENDED = Tenant(
    {
        "domain": "susp.e2e.test",
        "name": "Suspended E2E",
        "timezone": "Asia/Tokyo",
        "status": "suspended",
        "max_external_channels": 2,
        "users": [_user("101", "susp", caller_id="0344440000")],
        "numbers": [{"number": "0344440000", "destination": {"user": "101"}}],
    }
)

TENANTS = {t.domain: t for t in (ACME, BETA, TRIAL, SUSPENDED)}
