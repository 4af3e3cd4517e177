"""Customer gateways on the statement, to the yen: set-up once, monthly by plan, calls through them 0 yen."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing_helpers import apply_on, billing_tenant  # noqa: E402
from cdr_helpers import lab_tenant, synthetic_leg  # noqa: E402
from gw_helpers import HONSHA, OSAKA  # noqa: E402
from sqlalchemy import select  # noqa: E402

from fsctl import db, models  # noqa: E402
from fsctl.billing.prices import default_prices  # noqa: E402
from fsctl.billing.rating import rate_unrated  # noqa: E402
from fsctl.billing.statement import Month, compute_statements  # noqa: E402
from fsctl.cdr.parse import parse_json  # noqa: E402
from fsctl.cdr.store import CdrStore  # noqa: E402
from fsctl.wiring import tenant_file  # noqa: E402

D = dt.date


def gateways(**channels: int) -> list[dict]:
    out = []
    for spec in (HONSHA, OSAKA):
        gw = {k: v for k, v in spec.items() if k != "numbers"}
        gw["numbers"] = [{"number": n["number"]} for n in spec["numbers"]]
        gw["channels"] = channels.get(gw["name"], gw["channels"])
        out.append(gw)
    return out


def statement(session_factory, month: Month) -> dict[str, int]:
    with session_factory() as session:
        (doc,) = compute_statements(session, month, default_prices()).values()
    lines: dict[str, int] = {}
    for line in doc["lines"]:
        lines[line["code"]] = lines.get(line["code"], 0) + line["amount_yen"]
    lines["subtotal"] = doc["subtotal_yen"]
    return lines


def test_set_up_once_and_monthly_fees_by_plan(session_factory):
    apply_on(session_factory, D(2026, 10, 15), billing_tenant(gateways=gateways()))
    october = statement(session_factory, Month(2026, 10))
    assert october["gateway_setup"] == 100_000  # two gateways, 50,000 yen each, in the month set up
    assert (october["gateway_4ch"], october["gateway_8ch"]) == (4_000, 8_000)
    assert october["subtotal"] == 4_900 + 100 + 100_000 + 12_000
    # Applying again (nothing changed) and the next month: no second set-up fee.
    apply_on(session_factory, D(2026, 11, 2), billing_tenant(gateways=gateways()))
    with session_factory() as session:
        setups = session.execute(select(models.OneOffCharge.subject, models.OneOffCharge.occurred_on)).all()
    assert sorted(setups) == [("honsha", D(2026, 10, 15)), ("osaka", D(2026, 10, 15))]
    november = statement(session_factory, Month(2026, 11))
    # October is not closed here, so its set-up fees are still the unbilled one-offs shown in November.
    assert november["subtotal"] == 4_900 + 100 + 4_000 + 8_000 + 100_000
    # Honsha goes from 4 to 32 channels on Dec 10: December bills both plans (part-month rule).
    apply_on(session_factory, D(2026, 12, 10), billing_tenant(gateways=gateways(honsha=32)))
    december = statement(session_factory, Month(2026, 12))
    assert (december["gateway_4ch"], december["gateway_32ch"], december["gateway_8ch"]) == (
        4_000,
        32_000,
        8_000,
    )
    assert statement(session_factory, Month(2027, 1))["subtotal"] == 4_900 + 100 + 32_000 + 8_000 + 100_000


def test_a_gateway_set_up_in_the_trial_is_charged_on_activation(session_factory):
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(status="trial", gateways=gateways()[:1]))
    with session_factory() as session:
        assert session.scalars(select(models.OneOffCharge)).all() == []
    apply_on(session_factory, D(2026, 11, 5), billing_tenant(gateways=gateways()[:1]))
    november = statement(session_factory, Month(2026, 11))
    assert (november["gateway_setup"], november["gateway_4ch"]) == (50_000, 4_000)


def test_calls_through_a_customer_gateway_are_rated_zero(engine, session_factory):
    with db.session_scope(session_factory) as session:
        doc = lab_tenant(
            gateways=[
                {
                    "name": "honsha",
                    "password": "Gw-secret-0001",
                    "channels": 4,
                    "numbers": [{"number": "0355550100", "destination": {"user": "1001"}}],
                }
            ]
        )
        tenant_file().apply(session, doc)
    store = CdrStore(engine, session_factory)
    # SYNTHETIC legs built from the captured A-leg CDR: 1001 dials a mobile (5 min), once through the
    # carrier, once through the gateway (kumo_gateway set by the dialplan); and a call in from the gateway.
    store.store(
        parse_json(synthetic_leg("00000000-0000-4000-8000-000000000001", "09012345678", billsec=300)), "http"
    )
    store.store(
        parse_json(
            synthetic_leg(
                "00000000-0000-4000-8000-000000000002",
                "09012345678",
                billsec=300,
                variables={"kumo_gateway": "honsha"},
            )
        ),
        "http",
    )
    with session_factory() as session:
        gw_id = session.scalar(select(models.Gateway.id))
        tenant_id = session.scalar(select(models.Tenant.id))
    store.store(
        parse_json(
            synthetic_leg(
                "00000000-0000-4000-8000-000000000003",
                "0355550100",
                billsec=120,
                context=f"gw_{gw_id}.acme.example",
                caller="0611112222",
                variables={"kumo_gateway": "honsha", "kumo_tenant_id": str(tenant_id), "user_name": "honsha"},
            )
        ),
        "http",
    )
    # 1001 dials the tenant's own kept number: routed inside, internal, free.
    store.store(
        parse_json(synthetic_leg("00000000-0000-4000-8000-000000000004", "0355550100", billsec=60)), "http"
    )
    rate_unrated(engine, default_prices())
    with session_factory() as session:
        rows = {r.uuid[-1]: r for r in session.scalars(select(models.CallRecord))}
    assert (rows["1"].call_class, rows["1"].charge_yen) == ("mobile", 80)  # 5 started minutes x 16 yen
    assert (rows["2"].call_class, rows["2"].gateway, rows["2"].charge_yen) == ("mobile", "honsha", 0)
    assert (rows["3"].call_class, rows["3"].direction, rows["3"].tenant_id) == ("inbound", "in", tenant_id)
    assert (rows["3"].number, rows["3"].charge_yen) == ("0355550100", 0)
    assert (rows["4"].call_class, rows["4"].charge_yen) == ("internal", 0)
