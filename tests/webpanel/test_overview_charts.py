"""The overview's charts: calls per day on the tenant's clock (outgoing, answered, not answered) and
spend per month (closed invoices and this month so far), as SVG with the same figures as a table."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from panel_helpers import tenant_of
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.cdr.activity import DailyCallCounts, calls_per_day
from webpanel.extensions import db

JST = ZoneInfo("Asia/Tokyo")
TODAY = dt.date(2026, 11, 30)


def _call(
    session: Session, tenant_id: int, uuid: str, direction: str, started: dt.datetime, answered: bool, leg="a"
):
    session.add(
        models.CallRecord(
            uuid=uuid, leg=leg, tenant_id=tenant_id, extension="101", call_class="mobile",
            direction=direction, started_at=started.astimezone(dt.UTC),
            answered_at=started.astimezone(dt.UTC) if answered else None,
            ended_at=started.astimezone(dt.UTC) + dt.timedelta(seconds=30), duration=30,
            billsec=25 if answered else 0, charge_yen=0,
        )
    )  # fmt: skip


def test_calls_are_counted_on_the_tenants_calendar_day(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    with app.app_context():
        session = db.session
        # 23:30 JST on the 29th is 14:30 UTC on the 29th; 00:30 JST on the 30th is 15:30 UTC on the 29th.
        _call(session, tenant.id, "late", "out", dt.datetime(2026, 11, 29, 23, 30, tzinfo=JST), True)
        _call(session, tenant.id, "early", "in", dt.datetime(2026, 11, 30, 0, 30, tzinfo=JST), False)
        _call(session, tenant.id, "answered", "in", dt.datetime(2026, 11, 30, 9, 0, tzinfo=JST), True)
        _call(
            session, tenant.id, "answered-b", "in", dt.datetime(2026, 11, 30, 9, 0, tzinfo=JST), True, leg="b"
        )
        _call(session, tenant.id, "internal", "internal", dt.datetime(2026, 11, 30, 10, 0, tzinfo=JST), True)
        _call(session, tenant.id, "too-old", "out", dt.datetime(2026, 11, 23, 23, 59, tzinfo=JST), True)
        session.commit()
        days = calls_per_day(session, tenant.id, "Asia/Tokyo", 7, today=TODAY)
    assert [d.day for d in days] == [TODAY - dt.timedelta(days=n) for n in range(6, -1, -1)]
    by_day = {d.day: (d.outgoing, d.answered, d.missed) for d in days}
    assert by_day[dt.date(2026, 11, 29)] == (1, 0, 0)
    assert by_day[dt.date(2026, 11, 30)] == (0, 1, 1)  # the b-leg and the internal call are not counted
    assert by_day[dt.date(2026, 11, 24)] == (0, 0, 0)


def test_the_overview_draws_both_charts_with_their_figures(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    now = dt.datetime.now(JST)
    with app.app_context():
        for n in range(3):
            _call(db.session, tenant.id, f"missed-{n}", "in", now - dt.timedelta(minutes=n), False)
        _call(db.session, tenant.id, "out-0", "out", now, True)
        db.session.add(
            models.Statement(
                tenant_id=tenant.id, month=f"{(now.replace(day=1) - dt.timedelta(days=1)):%Y-%m}",
                invoice_number="KUMO-TEST-1", subtotal_yen=10000, tax_yen=1000, total_yen=11000, document={},
            )
        )  # fmt: skip
        db.session.commit()
    page = admin.get("/").get_data(as_text=True)
    calls = page.split('id="calls-chart"')[1].split("</figure>")[0]
    assert "直近30日間の通話は4件、うち着信に応答できなかったものが3件です。" in calls
    assert calls.count("<rect") >= 2 and 'class="bar-missed"' in calls
    assert f"<td>{now.month}/{now.day}</td><td>1</td><td>0</td><td>3</td>" in calls
    spend = page.split('id="spend-chart"')[1].split("</figure>")[0]
    assert "11,000円" in spend and "（今月これまで）" in spend
    assert len(re.findall(r"<tr><td>\d{4}-\d{2}", spend)) == 6


def test_ended_days_are_counted_again_only_after_a_while_and_today_always(app, admin):
    """DailyCallCounts: the overview counts today on every view, and the days before from a copy at
    most `keep` seconds old (counting 30 busy days costs the whole page budget)."""
    tenant = tenant_of(app, "admin@acme.example")
    clock = {"now": 1000.0}
    counts = DailyCallCounts(keep=600, clock=lambda: clock["now"])
    yesterday = dt.datetime(2026, 11, 29, 10, 0, tzinfo=JST)
    this_morning = dt.datetime(2026, 11, 30, 9, 0, tzinfo=JST)
    with app.app_context():
        _call(db.session, tenant.id, "y1", "out", yesterday, True)
        db.session.commit()

        def by_day():
            return {d.day: d.total for d in counts(db.session, tenant.id, "Asia/Tokyo", 3, today=TODAY)}

        assert by_day() == {dt.date(2026, 11, 28): 0, dt.date(2026, 11, 29): 1, TODAY: 0}
        _call(db.session, tenant.id, "t1", "in", this_morning, False)
        _call(db.session, tenant.id, "y2", "out", yesterday, True)  # stored late, for an ended day
        db.session.commit()
        assert by_day()[TODAY] == 1  # today: at once
        assert by_day()[dt.date(2026, 11, 29)] == 1  # an ended day: from the copy
        clock["now"] += 601
        assert by_day()[dt.date(2026, 11, 29)] == 2
        assert by_day() == {
            d.day: d.total for d in calls_per_day(db.session, tenant.id, "Asia/Tokyo", 3, today=TODAY)
        }
