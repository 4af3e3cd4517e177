"""The functions the panel calls: scoped to the tenant, operator sees everything."""

from __future__ import annotations

import time

from sqlalchemy import select

from fsctl import models
from fsctl.security import panel
from fsctl.security.tenant_limits import set_external_suspended


def _ban(session_factory, ip: str, domain: str = "", username: str = "") -> int:
    now = int(time.time())
    with session_factory() as session:
        ban = models.Ban(
            ip=ip,
            domain=domain,
            username=username,
            created_at=now,
            until=now + 600,
            failures=4,
            reason="4 failed authentications in 300 s",
        )
        session.add(ban)
        session.commit()
        return ban.id


def test_a_tenant_sees_and_lifts_only_its_own_pair_bans(session_factory, make_tenant):
    domain = make_tenant()
    other = make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[])
    with session_factory() as session:
        tid = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
        other_id = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == other))
    own = _ban(session_factory, "198.51.100.1", domain, "101")
    theirs = _ban(session_factory, "198.51.100.2", other, "101")
    whole_ip = _ban(session_factory, "198.51.100.3")
    with session_factory() as session:
        view = panel.overview(session, tid)
        assert [b.id for b in view.bans] == [own]
        assert view.limits is not None and view.limits.domain == domain
        assert {b.id for b in panel.overview(session).bans} == {own, theirs, whole_ip}
        assert not panel.lift(session, "admin@acme", theirs, tenant_id=tid)
        assert not panel.lift(session, "admin@acme", whole_ip, tenant_id=tid)
        assert panel.lift(session, "admin@acme", own, tenant_id=tid)
        assert panel.lift(session, "operator", whole_ip)
        assert [b.id for b in panel.overview(session).bans] == [theirs]
        assert [e.kind for e in panel.recent_events(session, tid)] == ["ban_lifted"]
        assert panel.recent_events(session, other_id) == []


def test_the_tenant_resumes_external_calls_after_a_suspension(session_factory, make_tenant):
    domain = make_tenant()
    with session_factory() as session:
        tid = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
        set_external_suspended(session, tid, True, "kumo spend watcher", "1200 yen in 5 minutes")
        assert panel.overview(session, tid).limits.external_suspended
        assert panel.resume_external_calls(session, "admin@acme", tid)
        assert not panel.overview(session, tid).limits.external_suspended
        kinds = [e.kind for e in panel.recent_events(session, tid)]
    assert kinds == ["external_resumed", "external_suspended"]


def test_the_suspension_says_when_by_whom_and_the_spend_figures(session_factory, make_tenant):
    domain = make_tenant()
    make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[])
    reason = "1120 yen of outbound calls in 5 minutes, above the cap of 1000 yen"
    with session_factory() as session:
        tid = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
        assert panel.suspension(session, tid) is None and panel.suspended_tenants(session) == []
        set_external_suspended(session, tid, True, "kumo spend watcher", reason)
        found = panel.overview(session, tid).suspension
        assert found is not None and found.since is not None and found.by == "kumo spend watcher"
        assert (found.reason, found.spend.window_yen, found.spend.cap_yen) == (reason, 1120, 1000)
        assert panel.suspended_tenants(session) == [(tid, domain, "株式会社アクメ")]
        assert panel.resume_external_calls(session, "operator", tid)
        assert panel.suspension(session, tid) is None and panel.suspended_tenants(session) == []


def test_resuming_a_tenant_that_was_not_suspended_writes_nothing(session_factory, make_tenant):
    domain = make_tenant()
    with session_factory() as session:
        tenant = session.scalars(select(models.Tenant).where(models.Tenant.domain == domain)).one()
        version = tenant.config_version
        audit = select(models.AuditEntry.id).where(models.AuditEntry.tenant_id == tenant.id)
        entries = session.scalars(audit).all()
        assert not panel.resume_external_calls(session, "admin@acme", tenant.id)
        session.expire_all()
        assert session.get(models.TenantCallLimits, tenant.id) is None
        assert session.get(models.Tenant, tenant.id).config_version == version
        assert session.scalars(audit).all() == entries
        assert panel.recent_events(session, tenant.id) == []


def test_tenant_ban_is_only_the_tenants_own_pair_ban(session_factory, make_tenant):
    domain = make_tenant()
    other = make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[])
    own = _ban(session_factory, "198.51.100.1", domain, "101")
    theirs = _ban(session_factory, "198.51.100.2", other, "101")
    whole_ip = _ban(session_factory, "198.51.100.3")
    with session_factory() as session:
        tid = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
        found = panel.tenant_ban(session, tid, own)
        assert found is not None and found.subject == f"101@{domain} from 198.51.100.1" and found.active
        assert panel.tenant_ban(session, tid, theirs) is None
        assert panel.tenant_ban(session, tid, whole_ip) is None
        assert panel.tenant_ban(session, tid, 10**9) is None
