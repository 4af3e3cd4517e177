"""The security pages: a tenant's own user+IP bans and events; the operator's bans with a lift button."""

from __future__ import annotations

import time

from panel_helpers import CSRF, PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from fsctl.security.bans import Failure, record_failures
from fsctl.security.settings import SecuritySettings
from webpanel.extensions import db


def ban(app, ip: str, domain: str, username: str) -> int:
    """Ban a source the way the ESL handler does: failed authentications past the threshold."""
    settings = SecuritySettings()
    now = int(time.time())
    failures = [Failure(ip, domain, username, now - n) for n in range(settings.auth_fail_threshold)]
    with app.app_context():
        record_failures(db.session, failures, settings)
        return db.session.scalar(
            select(models.Ban.id).where(
                models.Ban.ip == ip, models.Ban.domain == domain, models.Ban.username == username
            )
        )


def test_tenant_sees_only_its_own_bans_and_events(app, admin):
    acme = tenant_of(app, "admin@acme.example").domain
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    beta = tenant_of(app, "admin@beta.example").domain
    set_status(app, beta, "active")
    mine = ban(app, "198.51.100.1", acme, "101")
    theirs = ban(app, "198.51.100.2", beta, "201")
    platform = ban(app, "198.51.100.3", "", "")
    assert mine and theirs and platform

    page = admin.get("/security/").get_data(as_text=True)
    assert f"ban-{mine}" in page and "198.51.100.1" in page and "101@" in page
    assert "198.51.100.2" not in page and "198.51.100.3" not in page  # nor a platform-wide IP ban
    assert "遮断" in page and "セキュリティイベント" in page
    assert "198.51.100.1" not in other.get("/security/").get_data(as_text=True)
    assert f"/operator/security/bans/{mine}/lift" not in page  # no lift button for a tenant
    assert admin.get("/operator/security").status_code == 403


def test_operator_lists_and_lifts_bans(app, admin, operator):
    acme = tenant_of(app, "admin@acme.example").domain
    pair = ban(app, "198.51.100.1", acme, "101")
    platform = ban(app, "198.51.100.3", "", "")
    page = operator.get("/operator/security").get_data(as_text=True)
    assert f"ban-{pair}" in page and f"ban-{platform}" in page and "全利用者" in page
    assert f"/operator/security/bans/{platform}/lift" in page and CSRF in page
    # without the CSRF token the form is refused
    assert operator.client.post(f"/operator/security/bans/{platform}/lift", data={}).status_code == 400
    assert admin.post(f"/operator/security/bans/{platform}/lift").status_code == 403
    done = operator.post(f"/operator/security/bans/{platform}/lift", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "遮断を解除しました。" in text and f"ban-{platform}" not in text and f"ban-{pair}" in text
    with app.app_context():
        assert db.session.get(models.Ban, platform) is None
    again = operator.post(f"/operator/security/bans/{platform}/lift", follow_redirects=True)
    assert "その遮断はもうありません。" in again.get_data(as_text=True)
