"""Call history for the panel (filters, pages, charge per call, tenant scoping) and month-to-date money."""

from __future__ import annotations

import datetime as dt

import pytest
from billing_helpers import apply_on
from cdr_helpers import lab_tenant, synthetic_leg
from kumo_support import tenant_doc
from sqlalchemy import select

from fsctl import models
from fsctl.billing.close import close_month
from fsctl.billing.panel import forecast, month_to_date, statement_pdf, statements
from fsctl.billing.prices import default_prices
from fsctl.billing.settings import BillingSettings
from fsctl.billing.statement import Month
from fsctl.cdr.history import HistoryFilter, call_history
from fsctl.cdr.parse import parse_json
from fsctl.cdr.store import CdrStore

D = dt.date


def uid(n: int) -> str:
    return f"00000000-0000-4000-a000-{n:012d}"


@pytest.fixture
def calls(engine, session_factory):
    apply_on(session_factory, D(2026, 10, 1), lab_tenant())
    other = tenant_doc(
        domain="beta.example",
        ring_groups=[],
        numbers=[],
        users=[{"extension": "1001", "name": "Other", "password": "Str0ng-1001-pass"}],
    )
    apply_on(session_factory, D(2026, 10, 1), other)
    store = CdrStore(engine, session_factory)

    def leg(n: int, dialled: str, billsec: int, start: str, **kw) -> None:
        store.store(parse_json(synthetic_leg(uid(n), dialled, billsec=billsec, start=start, **kw)), "http")

    leg(1, "1002", 30, "2026-11-02 01:00:00")  # internal A leg
    leg(2, "1002", 30, "2026-11-02 01:00:00", b_leg_of=uid(1), variables={"dialed_user": "1002"})  # its B leg
    leg(3, "09012345678", 61, "2026-11-03 01:00:00")  # 32 yen
    leg(4, "+81312345678", 100, "2026-11-04 01:00:00", context="public", caller="+819011112222")  # inbound
    leg(5, "0612345679", 181, "2026-11-05 01:00:00")  # 16 yen
    leg(6, "0612345679", 0, "2026-11-06 01:00:00")  # unanswered
    leg(
        7,
        "09012345678",
        61,
        "2026-11-07 01:00:00",
        context="beta.example",
        variables={"domain_name": "beta.example"},
    )  # the other tenant's call
    with session_factory() as session:
        ids = dict(session.execute(select(models.Tenant.domain, models.Tenant.id)).all())
    return ids


def history(session_factory, **kw):
    with session_factory() as session:
        return call_history(session, HistoryFilter(**kw))


def test_tenant_history_shows_each_call_once_with_its_charge(calls, session_factory):
    page = history(session_factory, tenant_id=calls["acme.example"])
    assert [i.uuid[-1] for i in page.items] == ["6", "5", "4", "3", "1"]  # newest first, no B leg
    charges = {i.uuid[-1]: i.charge_yen for i in page.items}
    assert charges == {"6": 0, "5": 16, "4": 0, "3": 32, "1": 0}
    assert page.total == 5 and page.pages == 1
    assert all(i.uuid != uid(7) for i in page.items)  # never another tenant's call


def test_history_filters_and_pages(calls, session_factory):
    acme = calls["acme.example"]
    received = history(session_factory, tenant_id=acme, extension="1002")
    assert [(i.uuid[-1], i.direction) for i in received.items] == [("2", "in")]
    out = history(session_factory, tenant_id=acme, direction="out")
    assert [i.uuid[-1] for i in out.items] == ["6", "5", "3"]
    inbound = history(session_factory, tenant_id=acme, number="0312345678", direction="in")
    assert [i.uuid[-1] for i in inbound.items] == ["4"]
    window = history(
        session_factory,
        tenant_id=acme,
        since=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
        until=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
    )
    assert [i.uuid[-1] for i in window.items] == ["4", "3"]
    second = history(session_factory, tenant_id=acme, per_page=2, page=2)
    assert [i.uuid[-1] for i in second.items] == ["4", "3"] and second.pages == 3
    with pytest.raises(ValueError):
        history(session_factory, tenant_id=acme, direction="sideways")


def test_the_count_stops_at_its_cap_and_the_pages_go_on_while_calls_do(calls, session_factory):
    acme = calls["acme.example"]  # 5 calls
    with session_factory() as session:
        first = call_history(session, HistoryFilter(tenant_id=acme, per_page=2), count_cap=3)
        last = call_history(session, HistoryFilter(tenant_id=acme, per_page=2, page=3), count_cap=3)
        exact = call_history(session, HistoryFilter(tenant_id=acme, per_page=2, page=3), count_cap=5)
    assert first.total == 3 and first.more and first.has_next and first.pages == 2
    assert [i.uuid[-1] for i in first.items] == ["6", "5"]
    assert [i.uuid[-1] for i in last.items] == ["1"] and not last.has_next and last.pages == 3
    assert exact.total == 5 and not exact.more and exact.pages == 3 and not exact.has_next


def test_export_batches_walk_every_call_once_in_page_order(calls, engine, session_factory):
    from fsctl.cdr.history import iter_history

    acme = calls["acme.example"]
    store = CdrStore(engine, session_factory)
    for n in range(10, 15):  # five calls starting in the same second: the id breaks the tie
        store.store(
            parse_json(synthetic_leg(uid(n), "0612345679", billsec=5, start="2026-11-05 01:00:00")), "http"
        )
    expected = [i.uuid for i in history(session_factory, tenant_id=acme, per_page=100).items]
    assert len(expected) == 10
    with session_factory() as session:
        batches = list(iter_history(session, HistoryFilter(tenant_id=acme), batch=3))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [i.uuid for b in batches for i in b] == expected
    outgoing = [i.uuid for i in history(session_factory, tenant_id=acme, direction="out", per_page=100).items]
    with session_factory() as session:
        filtered = iter_history(session, HistoryFilter(tenant_id=acme, direction="out"), batch=2)
        assert [i.uuid for b in filtered for i in b] == outgoing and len(outgoing) == 8


def test_month_to_date_and_forecast(calls, session_factory):
    acme = calls["acme.example"]
    with session_factory() as session:
        mtd = month_to_date(session, acme, D(2026, 11, 10))
        guess = forecast(session, acme, D(2026, 11, 10))
    amounts = {line["code"]: line["amount_yen"] for line in mtd["lines"]}
    assert amounts == {"base_fee": 1960, "number_geographic": 100, "calls_fixed": 16, "calls_mobile": 32}
    projected = {line["code"]: line["amount_yen"] for line in guess["lines"]}
    assert projected["calls_mobile"] == 96 and projected["calls_fixed"] == 48  # x 30/10 days
    assert guess["subtotal_yen"] == 1960 + 100 + 96 + 48


@pytest.mark.system_package("ipafont")
def test_past_statements_and_pdf_are_scoped_to_the_tenant(calls, engine, session_factory, tmp_path):
    settings = BillingSettings(registration_number="T1234567890123", out_dir=tmp_path)
    close_month(engine, session_factory, Month(2026, 11), default_prices(), settings, today=D(2026, 12, 1))
    acme, beta = calls["acme.example"], calls["beta.example"]
    with session_factory() as session:
        mine = statements(session, acme)
        assert [(s["month"], s["total_yen"]) for s in mine] == [("2026-11", (1960 + 100 + 48) * 110 // 100)]
        assert statement_pdf(session, acme, mine[0]["id"], settings).startswith(b"%PDF")
        assert statement_pdf(session, beta, mine[0]["id"], settings) is None
