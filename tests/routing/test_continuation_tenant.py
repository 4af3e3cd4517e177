"""A continuation's tenant is its context's, never the one a channel variable names."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_responder import TUESDAY_10, actions, captured

from fsctl import models
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

BUSY_TO_101 = [
    {"extension": "101", "name": "A", "password": "Str0ng-101-pass", "caller_id": "0312345678"},
    {
        "extension": "102",
        "name": "B",
        "password": "Str0ng-102-pass",
        "voicemail": {"enabled": False},
        "forward": {"busy": {"user": "101"}},
    },
]


@pytest.fixture
def responder(engine, settings):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    store.reset()


def _tenant_id(session_factory, domain: str) -> int:
    with session_factory() as session:
        return session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))


def test_a_variable_naming_another_tenant_gets_nothing_of_it(
    make_tenant, responder, fixtures_dir, session_factory
):
    make_tenant(users=BUSY_TO_101)
    beta_users = [{"extension": "101", "name": "A", "password": "Str0ng-101-pass"}]
    make_tenant(domain="beta.kumo.test", users=beta_users, numbers=[], ring_groups=[], park=None)
    acme = _tenant_id(session_factory, "acme.kumo.test")
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="beta.kumo.test",
        domain="beta.kumo.test",
        user="101",
        destination="kumo-after-102-USER_BUSY",
    )
    fields["variable_kumo_continuation"] = f"{acme}/user:102"
    # beta's call never runs acme's forwarding (today: bridge user/101@acme.kumo.test).
    assert responder.answer(fields) is None
    # The same continuation in acme's own context is acme's.
    fields["Hunt-Context"] = fields["Caller-Context"] = "acme.kumo.test"
    assert ("bridge", "user/101@acme.kumo.test") in actions(responder.answer(fields))


def test_a_carrier_call_continues_in_its_tenants_public_context(make_tenant, responder, fixtures_dir):
    make_tenant(users=BUSY_TO_101, numbers=[{"number": "0312345678", "destination": {"user": "102"}}])
    fields = captured("dialplan-loopback-public-9196.txt", fixtures_dir, destination="0312345678")
    first = actions(responder.answer(fields))
    assert first[-1] == ("transfer", "kumo-after-102-${originate_disposition} XML public_acme.kumo.test")
    visited = next(d for a, d in first if a == "set" and d.startswith("kumo_continuation="))
    fields.update(
        {
            "Hunt-Context": "public_acme.kumo.test",
            "Hunt-Destination-Number": "kumo-after-102-USER_BUSY",
            "variable_kumo_continuation": visited.split("=", 1)[1],
        }
    )
    document = responder.answer(fields)
    assert ("bridge", "user/101@acme.kumo.test") in actions(document)
    # In "public" itself a continuation names no tenant.
    fields["Hunt-Context"] = "public"
    assert responder.answer(fields) is None
