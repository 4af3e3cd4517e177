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
