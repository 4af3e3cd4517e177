"""The security pages: a tenant's own user+IP bans (lifted by its administrator), events and spend
suspension (resumed by the administrator or the operator); the operator's bans with a lift button."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qsl, urlencode

from kumo_support import read_fixture
from lxml import etree
from panel_helpers import PASSWORD, PanelClient, set_status, signup, tenant_of
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.security.bans import Failure, is_refused, mark_trusted, record_failures
from fsctl.security.settings import SecuritySettings
from fsctl.security.spend import SpendWatcher
from fsctl.security.tenant_limits import set_limits
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore
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
    assert f"/operator/security/bans/{platform}/lift" in page and 'name="csrf_token"' in page
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


# -- a tenant administrator lifts the tenant's own bans --------------------------------------------


def audit_entries(app, action: str) -> list[models.AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(models.AuditEntry).where(models.AuditEntry.action == action)))


def second_tenant(app) -> tuple[PanelClient, str]:
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    beta = tenant_of(app, "admin@beta.example").domain
    set_status(app, beta, "active")
    return other, beta


def test_an_administrator_lifts_the_tenants_own_ban_audited(app, admin):
    acme = tenant_of(app, "admin@acme.example")
    with app.app_context():  # 101 registered from this address before: its failures ban only the pair
        mark_trusted(db.session, "198.51.100.1", acme.domain, "101")
    mine = ban(app, "198.51.100.1", acme.domain, "101")
    page = admin.get("/security/").get_data(as_text=True)
    assert (
        f'action="/security/bans/{mine}/lift"' in page
        and 'name="csrf_token"' in page
        and "全利用者について" not in page
    )
    with app.app_context():
        assert is_refused(db.session, "198.51.100.1", acme.domain, "101")
    done = admin.post(f"/security/bans/{mine}/lift")
    assert done.status_code == 302 and done.headers["Location"].endswith("/security/")
    text = admin.get("/security/").get_data(as_text=True)
    assert (
        f"198.51.100.1 からの 101@{acme.domain} の遮断を解除しました。この電話機は再び接続できます。" in text
    )
    assert f"ban-{mine}" not in text
    with app.app_context():
        assert db.session.get(models.Ban, mine) is None
        assert not is_refused(db.session, "198.51.100.1", acme.domain, "101")  # the next REGISTER passes
    (entry,) = audit_entries(app, "security.ban_lift")
    assert (entry.actor, entry.tenant_id) == ("panel:admin@acme.example", acme.id)
    assert f"101@{acme.domain} from 198.51.100.1" in entry.detail
    assert "security.ban_lift" in admin.get("/audit").get_data(as_text=True)  # the tenant's audit log
    assert "ban_lifted" in text  # and the security event
    # English
    with app.app_context():
        mark_trusted(db.session, "198.51.100.4", acme.domain, "102")
    mine = ban(app, "198.51.100.4", acme.domain, "102")
    admin.get("/lang/en")
    admin.post(f"/security/bans/{mine}/lift")
    text = admin.get("/security/").get_data(as_text=True)
    assert f"The ban of 102@{acme.domain} from 198.51.100.4 was lifted: that phone can sign in again." in text


def test_a_lifted_pair_still_under_an_ip_wide_ban_is_told_so(app, admin):
    acme = tenant_of(app, "admin@acme.example")
    # A phone that never registered: its failures also count for its address, which is banned as a whole.
    mine = ban(app, "198.51.100.1", acme.domain, "101")
    with app.app_context():
        platform = db.session.scalar(
            select(models.Ban.id).where(models.Ban.ip == "198.51.100.1", models.Ban.domain == "")
        )
    assert platform
    page = admin.get("/security/").get_data(as_text=True)
    assert "このアドレスは" in page and "全利用者について遮断されています (運営者のみが解除できます)" in page
    assert f"ban-{platform}" not in page and f"/bans/{platform}/lift" not in page
    admin.post(f"/security/bans/{mine}/lift")
    text = admin.get("/security/").get_data(as_text=True)
    assert "の遮断を解除しました。ただし、このアドレスは認証失敗が続いたため" in text and "flash warn" in text
    with app.app_context():
        assert db.session.get(models.Ban, platform) is not None  # the tenant cannot lift the address
        assert is_refused(db.session, "198.51.100.1", acme.domain, "101")


def test_another_tenants_ban_or_an_ip_wide_ban_is_404_for_a_tenant(app, admin):
    _, beta = second_tenant(app)
    theirs = ban(app, "198.51.100.2", beta, "201")
    platform = ban(app, "198.51.100.3", "", "")
    for ban_id in (theirs, platform, 10**9):
        assert admin.post(f"/security/bans/{ban_id}/lift").status_code == 404
    with app.app_context():
        assert db.session.get(models.Ban, theirs) and db.session.get(models.Ban, platform)
    assert audit_entries(app, "security.ban_lift") == []


def test_lifting_needs_the_csrf_token_and_an_administrator(app, admin, operator):
    acme = tenant_of(app, "admin@acme.example").domain
    mine = ban(app, "198.51.100.1", acme, "101")
    assert admin.client.post(f"/security/bans/{mine}/lift", data={}).status_code == 400
    assert admin.client.post(f"/security/bans/{mine}/lift", data={"csrf_token": "forged"}).status_code == 400
    # a tenant user (non-admin) of the same tenant
    admin.post("/users/new", {"extension": "101", "name": "利用者", "voicemail.enabled": "on"})
    with app.app_context():
        user_id = db.session.scalar(select(models.User.id).where(models.User.extension == "101"))
    admin.post(f"/users/{user_id}/login", {"email": "ichiro@acme.example", "password": PASSWORD})
    user = PanelClient(app.test_client())
    user.login("ichiro@acme.example")
    assert user.post(f"/security/bans/{mine}/lift").status_code == 403
    assert user.post("/security/resume").status_code == 403
    assert user.get("/security/").status_code == 403
    # the operator lifts through the operator's page, not the tenant's route
    assert operator.post(f"/security/bans/{mine}/lift").status_code == 403
    with app.app_context():
        assert db.session.get(models.Ban, mine) is not None
    assert audit_entries(app, "security.ban_lift") == []


def test_the_operators_lift_is_audited_for_the_bans_tenant(app, admin, operator):
    acme = tenant_of(app, "admin@acme.example")
    pair = ban(app, "198.51.100.1", acme.domain, "101")
    platform = ban(app, "198.51.100.3", "", "")
    operator.post(f"/operator/security/bans/{pair}/lift")
    operator.post(f"/operator/security/bans/{platform}/lift")
    entries = audit_entries(app, "security.ban_lift")
    assert [(e.actor, e.tenant_id) for e in entries] == [
        ("panel:ops@kumo.example", acme.id),
        ("panel:ops@kumo.example", None),
    ]
    assert "every user from 198.51.100.3" in entries[1].detail


# -- a spend suspension: shown, and resumed by the administrator or the operator ----------------------


def suspend_by_spend_alert(app, tenant_id: int, domain: str, charge: int = 1120) -> None:
    """The spend watcher's own path: a cap with suspension, an expensive call record, one tick."""
    with app.app_context():
        set_limits(db.session, domain, "ops", spend_cap_yen=1000, suspend_on_alert=True)
        ended = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
        db.session.add(
            models.CallRecord(  # SYNTHETIC: a rated call record as fsctl.cdr stores it
                uuid="00000000-0000-4000-8000-000000000001",
                leg="a",
                tenant_id=tenant_id,
                call_class="international",
                direction="out",
                caller="101",
                destination="0109999999",
                remote="+8821234567",
                started_at=ended - dt.timedelta(seconds=600),
                answered_at=ended - dt.timedelta(seconds=600),
                ended_at=ended,
                duration=600,
                billsec=600,
                charge_yen=charge,
            )
        )
        db.session.commit()
        (alert,) = SpendWatcher(sessionmaker(db.engine), SecuritySettings()).tick()
        assert alert.suspended


def test_the_suspension_is_shown_with_when_and_the_spend_and_the_admin_resumes_it(app, admin):
    acme = tenant_of(app, "admin@acme.example")
    home = admin.get("/").get_data(as_text=True)
    assert 'id="external-suspended"' not in home
    assert "利用できます" in admin.get("/security/").get_data(as_text=True)
    suspend_by_spend_alert(app, acme.id, acme.domain)

    for url in ("/", "/security/"):
        page = admin.get(url).get_data(as_text=True)
        assert 'id="external-suspended"' in page and "から外線発信を停止しています。" in page
        assert "5分間の発信料金が 1,120円 となり、上限の 1,000円 を超えました。" in page
        assert "緊急通報 (110・118・119) は引き続き利用できます" in page
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2} から外線発信を停止しています", page)
    assert 'action="/security/resume"' in page and "外線発信を再開" in page
    assert "/security/" in admin.get("/").get_data(as_text=True)  # the home page links to it
    admin.get("/lang/en")
    page = admin.get("/security/").get_data(as_text=True)
    assert (
        "A spend alert stopped them: outbound calls cost ¥1,120 in 5 minutes, above the cap of ¥1,000."
        in page
    )
    assert "External calls have been suspended since" in page
    admin.get("/lang/ja")

    assert admin.client.post("/security/resume", data={}).status_code == 400  # CSRF
    done = admin.post("/security/resume", follow_redirects=True).get_data(as_text=True)
    assert "外線発信を再開しました。次の発信から外線につながります。" in done
    assert 'id="external-suspended"' not in done and 'id="external-suspended"' not in admin.get("/").get_data(
        as_text=True
    )
    (entry,) = audit_entries(app, "security.external_resumed")
    assert (entry.actor, entry.tenant_id) == ("panel:admin@acme.example", acme.id)
    again = admin.post("/security/resume", follow_redirects=True).get_data(as_text=True)
    assert "外線発信は停止されていません。" in again
    assert len(audit_entries(app, "security.external_resumed")) == 1


def test_the_operator_sees_and_resumes_a_suspended_tenant(app, admin, operator):
    acme = tenant_of(app, "admin@acme.example")
    _, beta = second_tenant(app)
    suspend_by_spend_alert(app, acme.id, acme.domain)
    listing = operator.get("/operator/security").get_data(as_text=True)
    assert f'href="/operator/tenants/{acme.id}"' in listing and beta not in listing
    page = operator.get(f"/operator/tenants/{acme.id}").get_data(as_text=True)
    assert "上限の 1,000円 を超えました" in page and f"/operator/tenants/{acme.id}/resume-external" in page
    assert admin.post(f"/operator/tenants/{acme.id}/resume-external").status_code == 403
    assert operator.client.post(f"/operator/tenants/{acme.id}/resume-external", data={}).status_code == 400
    done = operator.post(f"/operator/tenants/{acme.id}/resume-external", follow_redirects=True)
    assert "外線発信を再開しました。" in done.get_data(as_text=True)
    assert operator.post("/operator/tenants/999999/resume-external").status_code == 404
    (entry,) = audit_entries(app, "security.external_resumed")
    assert (entry.actor, entry.tenant_id) == ("panel:ops@kumo.example", acme.id)
    assert 'id="suspended-tenants"' not in operator.get("/operator/security").get_data(as_text=True)


def test_after_the_resume_the_very_next_dialplan_lookup_lets_the_external_call_out(
    app, admin, engine, settings, session_factory
):
    acme = tenant_of(app, "admin@acme.example")
    add_numbers(session_factory, "0312345000")
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == "0312345000"))
    admin.post(f"/numbers/available/{number_id}/claim")
    created = admin.post(
        "/users/new",
        {"extension": "101", "name": "山田 太郎", "direction": "both", "caller_id": "0312345000"},
    )
    assert created.status_code == 200
    service = ServiceApp(settings, LookupStore(engine=engine))
    fields = dict(
        parse_qsl(read_fixture("xml_curl/dialplan-bridge-1002.txt").decode(), keep_blank_values=True)
    )
    fields.update(
        {  # the captured `1001 dials 1002`, made 101 of this tenant dialling an outside number
            "Hunt-Context": acme.domain,
            "Caller-Context": acme.domain,
            "variable_domain_name": acme.domain,
            "variable_user_name": "101",
            "variable_sip_auth_username": "101",
            "Hunt-Destination-Number": "0312349999",
            "Caller-Destination-Number": "0312349999",
        }
    )
    body = urlencode(fields).encode()

    def actions() -> list[tuple[str, str]]:
        document = service.handle("POST", "/fs/xml", {}, body).body
        return [
            (a.get("application"), a.get("data") or "") for a in etree.fromstring(document).iter("action")
        ]

    assert ("bridge", "sofia/gateway/carrier/+81312349999") in actions()  # and the snapshot is cached
    suspend_by_spend_alert(app, acme.id, acme.domain)
    refused = actions()
    assert ("hangup", "OUTGOING_CALL_BARRED") in refused and not any(a == "bridge" for a, _ in refused)
    admin.post("/security/resume")
    assert ("bridge", "sofia/gateway/carrier/+81312349999") in actions()
