"""Monthly statements: the brochure's examples, the part-month rule, options, one-off fees, tax."""

from __future__ import annotations

import datetime as dt

import pytest
from billing_helpers import apply_on, billing_tenant, users
from sqlalchemy import select

from fsctl import db, models
from fsctl.billing.prices import default_prices
from fsctl.billing.statement import Month, compute_statements
from fsctl.billing.subscriptions import add_one_off, billing_day, set_billing_account
from fsctl.wiring import billable_items

NOV = Month(2026, 11)
D = dt.date


def statement(session_factory, month: Month = NOV) -> dict:
    with session_factory() as session:
        docs = compute_statements(session, month, default_prices())
    assert len(docs) <= 1
    return next(iter(docs.values()), None)


def amounts(doc: dict) -> dict[str, int]:
    return {line["code"]: line["amount_yen"] for line in doc["lines"]}


def test_brochure_example_1_five_users_one_number(session_factory):
    apply_on(session_factory, D(2026, 10, 15), billing_tenant())
    doc = statement(session_factory)
    assert amounts(doc) == {"base_fee": 4900, "number_geographic": 100}
    assert doc["subtotal_yen"] == 5000
    assert (doc["tax_yen"], doc["total_yen"]) == (500, 5500)


def test_brochure_example_2_ten_users_eleven_numbers(session_factory):
    doc = billing_tenant(users=users(10, dids=True))
    apply_on(session_factory, D(2026, 10, 1), doc)
    result = statement(session_factory)
    lines = {line["code"]: line for line in result["lines"]}
    assert (lines["number_geographic"]["quantity"], lines["number_geographic"]["amount_yen"]) == (11, 1100)
    assert (lines["base_fee"]["quantity"], lines["base_fee"]["amount_yen"]) == (5, 4900)
    assert result["subtotal_yen"] == 6000


@pytest.mark.parametrize(("count", "base"), [(1, 980), (4, 3920), (5, 4900), (6, 4900), (300, 4900)])
def test_base_fee_is_capped_at_five_users(session_factory, count, base):
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(users=users(count)))
    assert amounts(statement(session_factory))["base_fee"] == base


def test_part_month_rule_any_day_held_while_active(session_factory):
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(users=users(2)))
    # 103 exists on Nov 30 only; 102 leaves on Nov 1 (held that day): both count in November.
    apply_on(session_factory, D(2026, 11, 1), billing_tenant(users=users(1)))
    apply_on(session_factory, D(2026, 11, 30), billing_tenant(users=users(1) + users(3)[2:]))
    nov = statement(session_factory)
    assert next(line for line in nov["lines"] if line["code"] == "base_fee")["quantity"] == 3
    dec = statement(session_factory, Month(2026, 12))
    assert next(line for line in dec["lines"] if line["code"] == "base_fee")["quantity"] == 2
    # A user removed and added again in the month is one user.
    apply_on(session_factory, D(2026, 12, 5), billing_tenant(users=users(1)))
    apply_on(session_factory, D(2026, 12, 6), billing_tenant(users=users(1) + users(3)[2:]))
    dec = statement(session_factory, Month(2026, 12))
    assert next(line for line in dec["lines"] if line["code"] == "base_fee")["quantity"] == 2


def test_trial_days_are_not_billed(session_factory):
    trial = billing_tenant(status="trial", users=users(3))
    apply_on(session_factory, D(2026, 11, 1), trial)
    # 103 is removed during the trial; the tenant is activated on Nov 20 with 2 users.
    apply_on(session_factory, D(2026, 11, 10), billing_tenant(status="trial", users=users(2)))
    assert statement(session_factory, Month(2026, 10)) is None
    apply_on(session_factory, D(2026, 11, 20), billing_tenant(users=users(2)))
    assert amounts(statement(session_factory)) == {"base_fee": 1960, "number_geographic": 100}


def test_options_toll_free_and_paper_invoice(session_factory):
    doc = billing_tenant(
        users=users(3, recording=2),
        numbers=[
            {"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True},
            {"number": "0120123456", "destination": {"user": "1001"}},
            {"number": "0800123456" + "7", "destination": {"user": "1001"}},
            {"number": "05012345678", "destination": {"user": "1001"}},
        ],
        ivr_menus=[{"name": "main", "options": {"1": {"user": "1001"}}}],
    )
    apply_on(session_factory, D(2026, 10, 1), doc)
    with billing_day(D(2026, 11, 15)), db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant))
        set_billing_account(
            session, tenant, email="billing@acme.example", paper_invoice=True, billable=billable_items()
        )
    assert amounts(statement(session_factory)) == {
        "base_fee": 2940,
        "number_geographic": 100,
        "number_ip": 100,
        "number_toll_free": 6000,
        "option_recording": 2000,
        "option_ivr": 500,
        "paper_invoice": 150,
    }
    assert amounts(statement(session_factory, Month(2026, 10))).get("paper_invoice") is None


def test_one_off_fees_in_their_month(session_factory):
    numbers = [
        {"number": "0312345678", "destination": {"user": "1001"}},
        {"number": "0612345678", "destination": {"user": "1001"}},
        {"number": "0120123456", "destination": {"user": "1001"}},
        {"number": "08001234567", "destination": {"user": "1001"}},
    ]
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(numbers=numbers))
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant))
        add_one_off(session, tenant.id, "porting_toll_free", "0120123456", D(2026, 10, 1))
    # Cancel the 06, 0120 and 0800 numbers on Nov 10: 500 + 2,000 + 2,000 yen, in November.
    apply_on(session_factory, D(2026, 11, 10), billing_tenant(numbers=numbers[:1]))
    nov = statement(session_factory)
    fees = [
        (line["code"], line["amount_yen"])
        for line in nov["lines"]
        if line["code"].startswith(("cancel", "port"))
    ]
    assert sorted(fees) == [
        ("cancel_number", 500),
        ("cancel_toll_free", 2000),
        ("cancel_toll_free", 2000),
        ("porting_toll_free", 2000),
    ]  # October's porting is still unbilled (no close)
    # The released numbers were held in November (until the 10th): still billed for November.
    assert amounts(nov)["number_toll_free"] == 6000
    assert statement(session_factory, Month(2026, 12))["lines"][1]["quantity"] == 1


def test_trial_tenant_number_release_has_no_cancellation_fee(session_factory):
    apply_on(session_factory, D(2026, 11, 1), billing_tenant(status="trial"))
    apply_on(session_factory, D(2026, 11, 2), billing_tenant(status="trial", numbers=[]))
    with session_factory() as session:
        assert session.scalars(select(models.OneOffCharge)).all() == []


def test_tax_is_floored_on_the_total_per_rate(session_factory, engine):
    apply_on(session_factory, D(2026, 10, 1), billing_tenant())
    with db.session_scope(session_factory) as session:
        tenant_id = session.scalar(select(models.Tenant.id))
    with engine.begin() as conn:
        conn.execute(
            models.CallRecord.__table__.insert(),
            [
                {
                    "uuid": "u-1",
                    "leg": "a",
                    "tenant_id": tenant_id,
                    "call_class": "mobile",
                    "direction": "out",
                    "started_at": dt.datetime(2026, 11, 3, 1, 0, tzinfo=dt.UTC),
                    "billsec": 61,
                    "duration": 62,
                    "charge_yen": 32,
                    "received_at": dt.datetime.now(dt.UTC),
                },
                {
                    "uuid": "u-2",
                    "leg": "a",
                    "tenant_id": tenant_id,
                    "call_class": "fixed",
                    "direction": "out",
                    "started_at": dt.datetime(2026, 11, 30, 14, 59, tzinfo=dt.UTC),
                    "billsec": 200,
                    "duration": 200,
                    "charge_yen": 16,
                    "received_at": dt.datetime.now(dt.UTC),
                },
                {
                    # Dec 1 00:00:30 JST: December's call, not November's.
                    "uuid": "u-3",
                    "leg": "a",
                    "tenant_id": tenant_id,
                    "call_class": "fixed",
                    "direction": "out",
                    "started_at": dt.datetime(2026, 11, 30, 15, 0, 30, tzinfo=dt.UTC),
                    "billsec": 10,
                    "duration": 10,
                    "charge_yen": 8,
                    "received_at": dt.datetime.now(dt.UTC),
                },
            ],
        )
    doc = statement(session_factory)
    assert amounts(doc)["calls_mobile"] == 32 and amounts(doc)["calls_fixed"] == 16
    assert doc["subtotal_yen"] == 5048
    assert doc["tax"] == [{"rate_percent": 10, "taxable_yen": 5048, "tax_yen": 504}]  # 504.8 -> 504
    assert (doc["tax_yen"], doc["total_yen"], doc["tax_rounding"]) == (504, 5552, "floor")
