"""No IDOR: every route that takes an object id, requested by tenant A with tenant B's ids."""

from __future__ import annotations

import datetime as dt
import re

from panel_helpers import PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.wiring import tenant_file
from webpanel.extensions import db

# /lang/<code>; /password-reset/<token> names no object: its unguessable token is the whole key.
# Token routes: the token is the key (tests/webpanel/test_provisioning_links.py, test_password_reset.py,
# test_phonebook_feed.py).
NOT_OBJECT_ROUTES = {"auth.language", "reset.choose", "provision.fetch", "phonebook_feed.fetch"}


def build_tenant(app, email: str, company: str, number: str) -> PanelClient:
    admin = PanelClient(app.test_client())
    signup(admin, company=company, email=email)
    set_status(app, tenant_of(app, email).domain, "active")
    admin.post("/users/new", {"extension": "101", "name": "利用者", "voicemail.enabled": "on"})
    admin.post("/ring-groups/new", {"name": "reception", "members": "101", "ring_seconds": "20"})
    admin.post(
        "/schedules/new",
        {
            "name": "business",
            "open-count": "1",
            "open-0-days": ["mon"],
            "open-0-from": "09:00",
            "open-0-to": "18:00",
        },
    )
    admin.post("/ivr-menus/new", {"name": "main", "options.1": "user", "options.1.target": "101"})
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == number))
    admin.post(f"/numbers/available/{number_id}/claim")
    admin.post("/api-tokens", {"name": "b-token"})
    return admin


def snapshot(app, tenant_id: int) -> tuple:
    with app.app_context():
        tenant = db.session.get(models.Tenant, tenant_id)
        tokens = db.session.scalars(
            select(models.ApiToken.id).where(models.ApiToken.tenant_id == tenant_id)
        ).all()
        accounts = db.session.scalars(
            select(models.PanelAccount.email).where(models.PanelAccount.tenant_id == tenant_id)
        ).all()
        users = db.session.scalars(
            select(models.User.a1_hash).where(models.User.tenant_id == tenant_id)
        ).all()
        return tenant_file().export(tenant), tokens, accounts, users


def test_every_object_route_refuses_another_tenants_ids(app, session_factory):
    add_numbers(session_factory, "0312345000-0312345001")
    attacker = build_tenant(app, "a@a.example", "Alpha", "0312345000")
    bravo = build_tenant(app, "b@b.example", "Bravo", "0312345001")
    # Only the victim has a conference room (addressed by its number) and a phonebook contact.
    bravo.post("/conference-rooms/new", {"number": "801", "pin": "4321", "max_members": "5"})
    bravo.post("/phonebook/new", {"name": "Victim contact", "numbers": "0398765432"})
    # And a call queue (by its number) whose agent is the victim's 101.
    bravo.post("/call-queues/new", {"number": "802", "agents": "101", "max_wait_seconds": "60"})
    victim = tenant_of(app, "b@b.example")
    with app.app_context():
        ids = {
            "number": "801",
            "queue": "802",
            # The agent route names an extension: the attacker's own 101 is no agent, the victim's is.
            "extension": "101",
            # The screening route names a number or an extension: the victim's number.
            "kind": "numbers",
            "key": "0312345001",
            "entry_id": db.session.scalar(
                select(models.PhonebookEntry.id).where(models.PhonebookEntry.tenant_id == victim.id)
            ),
            "user_id": db.session.scalar(select(models.User.id).where(models.User.tenant_id == victim.id)),
            "group_id": db.session.scalar(
                select(models.RingGroup.id).where(models.RingGroup.tenant_id == victim.id)
            ),
            "schedule_id": db.session.scalar(
                select(models.Schedule.id).where(models.Schedule.tenant_id == victim.id)
            ),
            "menu_id": db.session.scalar(
                select(models.IvrMenu.id).where(models.IvrMenu.tenant_id == victim.id)
            ),
            "number_id": db.session.scalar(
                select(models.Number.id).where(models.Number.tenant_id == victim.id)
            ),
            "token_id": db.session.scalar(
                select(models.ApiToken.id).where(models.ApiToken.tenant_id == victim.id)
            ),
            "tenant_id": victim.id,
            "account_id": db.session.scalar(
                select(models.PanelAccount.id).where(models.PanelAccount.tenant_id == victim.id)
            ),
        }
        # Voicemail and recordings (the media pages in this frame): rows of the victim tenant.
        now = dt.datetime.now(dt.UTC)
        message = models.VoicemailMessage(
            tenant_id=victim.id, mailbox="101", received_at=now, file_path="101/msg_victim.wav"
        )
        recording = models.CallRecording(
            tenant_id=victim.id, call_uuid="victim-call", started_at=now, file_path="rec/victim.wav"
        )
        # A closed statement of the victim (billing page's PDF route).
        statement = models.Statement(
            tenant_id=victim.id, month="2026-10", invoice_number="VICTIM-2026-10",
            subtotal_yen=0, tax_yen=0, total_yen=0, document={},
        )  # fmt: skip
        # A user+IP ban of the victim (the tenant's and the operator's lift routes).
        ban = models.Ban(ip="198.51.100.9", domain=victim.domain, username="101", created_at=0, until=2**40)
        # A fax the victim received (the FAX page's PDF and delete routes).
        fax = models.FaxMessage(
            tenant_id=victim.id,
            call_uuid="victim-fax",
            number="0312345001",
            received_at=now,
            pdf_path="victim.pdf",
        )
        db.session.add_all([message, recording, statement, ban, fax])
        db.session.commit()
        ids.update(
            message_id=message.id,
            recording_id=recording.id,
            statement_id=statement.id,
            ban_id=ban.id,
            fax_id=fax.id,
        )
    assert all(ids.values())
    before = snapshot(app, victim.id)
    tried = set()
    form = {
        "name": "pwned",
        "members": "101",
        "extension": "101",
        "destination": "hangup",
        "email": "evil@a.example",
        "password": "Evil-pass-2026",
        "open-count": "0",
    }
    for rule in app.url_map.iter_rules():
        arguments = set(rule.arguments)
        if not arguments or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint in NOT_OBJECT_ROUTES:
            continue
        # A new object route must get its victim id here: an id this test does not know fails it.
        assert not arguments - set(ids), f"{rule.rule}: add a victim id for {arguments - set(ids)}"
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = attacker.get(url) if method == "GET" else attacker.post(url, form)
            tried.add(rule.endpoint)
            if rule.endpoint.startswith("operator."):
                assert response.status_code == 403, (method, url)
            elif rule.endpoint == "numbers.claim":
                assert response.status_code == 302  # "no longer available": it is not a free number
            else:
                assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(app, victim.id) == before
    with app.app_context():
        assert db.session.get(models.Ban, ids["ban_id"]) is not None
    expected = {
        "users.edit", "users.delete", "users.new_credentials", "users.create_login",
        "users.disable_login", "users.enable_login",
        "numbers.claim", "numbers.update", "numbers.release_number",
        "ringgroups.edit", "ringgroups.delete", "schedules.edit", "schedules.delete",
        "ivr.edit", "ivr.delete",
        "tenant.api_token_delete", "operator.tenant", "operator.tenant_update",
        "billing.statement_pdf", "operator.lift_ban", "admins.remove", "security.lift_ban", "operator.resume_external",
        "rooms.edit", "rooms.delete", "phonebook.edit", "phonebook.delete", "screening.anonymous_one",
        "fax.pdf", "fax.delete", "fax.number",
        "queues.edit", "queues.delete", "queues.agent",
    }  # fmt: skip
    assert expected <= tried


def test_api_cannot_name_another_tenants_objects(app, session_factory):
    add_numbers(session_factory, "0312345000-0312345001")
    attacker = build_tenant(app, "a@a.example", "Alpha", "0312345000")
    build_tenant(app, "b@b.example", "Bravo", "0312345001")
    victim = tenant_of(app, "b@b.example")
    html = attacker.post("/api-tokens", {"name": "mine"}).get_data(as_text=True)
    token = re.search(r'id="new-token">([^<]+)<', html).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    raw = app.test_client()
    before = snapshot(app, victim.id)
    assert (
        raw.put(
            "/api/v1/numbers/0312345001", json={"destination": {"hangup": True}}, headers=headers
        ).status_code
        == 404
    )
    assert raw.delete("/api/v1/numbers/0312345001", headers=headers).status_code == 404
    for method in ("get", "put", "delete"):
        fax = getattr(raw, method)("/api/v1/numbers/0312345001/fax", json={"emails": []}, headers=headers)
        assert fax.status_code == 404, method
    assert raw.post("/api/v1/numbers", json={"number": "0312345001"}, headers=headers).status_code == 422
    # Names are looked up in the token's own tenant only: "reception" here is Alpha's group.
    raw.put(
        "/api/v1/ring-groups/reception",
        json={"name": "reception", "members": ["101"], "ring_seconds": 30},
        headers=headers,
    )
    assert snapshot(app, victim.id) == before
