"""Spend anomaly alerts from call records as they arrive: cap, 5x usual, mail, event row, suspension."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from media.smtp_sink import SmtpSink
from sqlalchemy import select

from fsctl import models
from fsctl.media.settings import SmtpSettings
from fsctl.security.settings import SecuritySettings
from fsctl.security.spend import SpendWatcher
from fsctl.security.tenant_limits import set_limits

NOW = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC).timestamp()
_uuids = itertools.count(1)


def add_call(
    session_factory,
    tenant_id: int,
    ended: float,
    billsec: int,
    call_class: str = "mobile",
    charge: int | None = None,
    remote: str = "09012345678",
) -> None:
    """SYNTHETIC: a call record as fsctl.cdr would store it (rated or not yet rated)."""
    started = dt.datetime.fromtimestamp(ended - billsec - 5, dt.UTC)
    with session_factory() as session:
        session.add(
            models.CallRecord(
                uuid=f"00000000-0000-4000-8000-{next(_uuids):012d}",
                leg="a",
                tenant_id=tenant_id,
                call_class=call_class,
                direction="out",
                caller="101",
                destination=remote,
                remote=remote,
                started_at=started,
                answered_at=started,
                ended_at=dt.datetime.fromtimestamp(ended, dt.UTC),
                duration=billsec + 5,
                billsec=billsec,
                charge_yen=charge,
            )
        )
        session.commit()


@pytest.fixture
def tenant(session_factory, make_tenant):
    domain = make_tenant()
    with session_factory() as session:
        tenant = session.scalars(select(models.Tenant).where(models.Tenant.domain == domain)).one()
        session.add(models.BillingAccount(tenant_id=tenant.id, email="keiri@acme.example"))
        session.commit()
        return tenant.id, domain


def settings(port: int = 0) -> SecuritySettings:
    smtp = (
        SmtpSettings(host="127.0.0.1", port=port, sender="kumo@platform.example") if port else SmtpSettings()
    )
    return SecuritySettings(operator_email="noc@platform.example", smtp=smtp)


def events(session_factory) -> list[models.SecurityEvent]:
    with session_factory() as session:
        return list(session.scalars(select(models.SecurityEvent).order_by(models.SecurityEvent.id)))


def test_spend_above_the_cap_alerts_once_mails_tenant_and_operator_and_suspends(session_factory, tenant):
    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=1000, suspend_on_alert=True)
    with SmtpSink() as sink:
        watcher = SpendWatcher(session_factory, settings(sink.port))
        assert watcher.tick(NOW) == []
        # Not rated yet: priced with the billing price list (mobile: 16 yen per started minute).
        add_call(session_factory, tenant_id, NOW - 100, billsec=1800)  # 30 min = 480 yen
        assert watcher.tick(NOW) == []
        add_call(session_factory, tenant_id, NOW + 10, billsec=2400, charge=640)  # rated already
        alerts = watcher.tick(NOW + 20)
        assert [(a.domain, a.window_yen, a.suspended) for a in alerts] == [(domain, 1120, True)]
        assert "above the cap of 1000 yen" in alerts[0].reason
        assert watcher.tick(NOW + 30) == []  # same window: no second alert
    assert sorted(sink.envelopes[0][1]) == ["<keiri@acme.example>", "<noc@platform.example>"]
    assert "Spend alert: acme.kumo.test" in sink.messages[0]["Subject"]
    assert "SUSPENDED" in sink.messages[0].get_content()
    kinds = [(e.kind, e.emailed) for e in events(session_factory)]
    assert ("spend_alert", True) in kinds and ("external_suspended", False) in kinds
    with session_factory() as session:
        assert session.get(models.TenantCallLimits, tenant_id).external_suspended


def test_five_times_the_usual_rate_alerts_without_a_cap(session_factory, tenant):
    tenant_id, _ = tenant
    # Usual: 7 days of 2,016 yen a day -> 7 yen per 5 minutes on average.
    for day in range(1, 8):
        add_call(session_factory, tenant_id, NOW - day * 86400 + 3600, billsec=60, charge=2016)
    watcher = SpendWatcher(session_factory, settings())
    add_call(
        session_factory,
        tenant_id,
        NOW - 30,
        billsec=60,
        call_class="international",
        remote="+8821234567",
        charge=400,
    )
    assert watcher.tick(NOW) == []  # 400 yen: far above 5x usual, but under the floor (500 yen)
    add_call(
        session_factory,
        tenant_id,
        NOW - 20,
        billsec=120,
        call_class="international",
        remote="+8821234567",
        charge=120,
    )
    alerts = watcher.tick(NOW)
    assert len(alerts) == 1 and "5x the usual 7 yen" in alerts[0].reason
    assert alerts[0].suspended is False and alerts[0].emailed_to == ()  # no SMTP configured: logged only
    with session_factory() as session:
        limits = session.get(models.TenantCallLimits, tenant_id)
        assert limits is None or not limits.external_suspended


def test_usual_spend_does_not_alert_and_old_records_are_not_a_window(session_factory, tenant):
    tenant_id, _ = tenant
    for day in range(1, 8):
        add_call(session_factory, tenant_id, NOW - day * 86400, billsec=60, charge=288 * 300)  # 300 yen/5 min
    add_call(session_factory, tenant_id, NOW - 3600, billsec=60, charge=50_000)  # an hour ago (spool import)
    add_call(session_factory, tenant_id, NOW - 60, billsec=60, charge=900)
    assert SpendWatcher(session_factory, settings()).tick(NOW) == []


def test_a_second_instance_does_not_alert_the_same_window_again(session_factory, tenant):
    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=100)
    add_call(session_factory, tenant_id, NOW - 10, billsec=600, charge=160)
    first, second = SpendWatcher(session_factory, settings()), SpendWatcher(session_factory, settings())
    assert len(first.tick(NOW)) == 1
    assert second.tick(NOW + 1) == []
    assert [e.kind for e in events(session_factory)] == ["spend_alert"]


def test_calls_through_a_customer_gateway_cost_the_platform_nothing(session_factory, tenant):
    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=100)
        session.add(
            models.CallRecord(
                uuid="00000000-0000-4000-8000-999999999999",
                leg="a",
                tenant_id=tenant_id,
                call_class="mobile",
                direction="out",
                started_at=dt.datetime.fromtimestamp(NOW - 700, dt.UTC),
                ended_at=dt.datetime.fromtimestamp(NOW - 10, dt.UTC),
                billsec=600,
                gateway="office-pbx",
            )
        )
        session.commit()
    assert SpendWatcher(session_factory, settings()).tick(NOW) == []


def test_the_service_loop_alerts_within_its_interval(engine, session_factory, tenant):
    import gevent

    from fsctl.security.jobs import SecurityJobs

    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=10)
    watcher = SecurityJobs(engine, settings(), spend_interval=0.05)
    watcher.start()
    try:
        import time

        add_call(session_factory, tenant_id, time.time() - 5, billsec=300, charge=80)
        deadline = time.monotonic() + 5
        while not events(session_factory) and time.monotonic() < deadline:
            gevent.sleep(0.05)
    finally:
        watcher.stop()
    assert [e.kind for e in events(session_factory)] == ["spend_alert"]


def test_the_service_jobs_check_spend_and_purge_hourly(engine, session_factory, tenant):
    from fsctl.security.jobs import SecurityJobs

    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=10)
        session.add(models.AuthFailure(ip="198.51.100.1", at=int(NOW) - 8 * 86400, domain="", username=""))
        session.commit()
    add_call(session_factory, tenant_id, NOW - 5, billsec=300, charge=80)
    jobs = SecurityJobs(engine, settings())
    spend, purge = jobs.jobs
    assert (spend.interval, purge.interval) == (15.0, 3600.0)
    assert jobs.spend.tick(NOW) and [e.kind for e in events(session_factory)] == ["spend_alert"]
    assert jobs.purge(NOW) == (1, 0)
    with session_factory() as session:
        assert session.scalars(select(models.AuthFailure)).all() == []


def test_after_a_resume_the_calls_that_caused_the_suspension_do_not_suspend_again(session_factory, tenant):
    from fsctl.security.panel import resume_external_calls

    tenant_id, domain = tenant
    with session_factory() as session:
        set_limits(session, domain, "operator", spend_cap_yen=1000, suspend_on_alert=True)
    watcher = SpendWatcher(session_factory, settings())
    add_call(session_factory, tenant_id, NOW + 250, billsec=60, charge=600)
    add_call(session_factory, tenant_id, NOW + 260, billsec=60, charge=600)
    assert [a.suspended for a in watcher.tick(NOW + 265)] == [True]
    with session_factory() as session:
        assert resume_external_calls(session, "panel:admin@acme.example", tenant_id)
        resumed = session.scalars(
            select(models.SecurityEvent).where(models.SecurityEvent.kind == "external_resumed")
        ).one()
        resumed.at = dt.datetime.fromtimestamp(NOW + 280, dt.UTC)  # the watcher runs on NOW's clock
        session.commit()
    # The next window starts: both calls are still in the last 5 minutes, but they ended before the resume.
    assert watcher.tick(NOW + 305) == []
    # New spend after the resume alerts (and suspends) as before.
    add_call(session_factory, tenant_id, NOW + 310, billsec=60, charge=1200)
    alerts = watcher.tick(NOW + 320)
    assert [(a.window_yen, a.suspended) for a in alerts] == [(1200, True)]


@pytest.mark.parametrize(
    "reason, figures",
    [
        (
            "1120 yen of outbound calls in 5 minutes, above the cap of 1000 yen",
            (1120, 5, 1000, None, None, None),
        ),
        (
            "520 yen of outbound calls in 5 minutes, more than 5x the usual 7 yen (average over 7 days)",
            (520, 5, None, 5, 7, 7),
        ),
    ],
)
def test_the_figures_of_an_alert_are_read_back_from_its_reason(reason, figures):
    from dataclasses import astuple

    from fsctl.security.spend import spend_figures

    assert astuple(spend_figures(reason)) == figures
    assert spend_figures("suspended by hand") is None
