"""The JSON API: bearer tokens per tenant, the same validation as the forms, errors naming the field."""

from __future__ import annotations

import hashlib
import re

from panel_helpers import PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from fsctl.inventory import add_numbers
from webpanel.extensions import db


def make_token(admin: PanelClient, name: str = "script") -> str:
    html = admin.post("/api-tokens", {"name": name}).get_data(as_text=True)
    return re.search(r'id="new-token">([^<]+)<', html).group(1)


def api(client, method: str, url: str, token: str, json=None):
    return client.open(url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})


def test_tokens_are_required_and_only_their_hash_is_kept(app, admin):
    raw = app.test_client()
    response = raw.get("/api/v1/users")
    assert response.status_code == 401 and response.json["errors"][0]["field"] == "Authorization"
    assert api(raw, "GET", "/api/v1/users", "kumo_forged").status_code == 401
    token = make_token(admin)
    assert api(raw, "GET", "/api/v1/users", token).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(models.ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is not None
    admin.post(f"/api-tokens/{row.id}/delete")
    assert api(raw, "GET", "/api/v1/users", token).status_code == 401


def test_users_crud_with_field_errors(app, admin):
    token = make_token(admin)
    raw = app.test_client()
    response = api(
        raw,
        "POST",
        "/api/v1/users",
        token,
        {"extension": "101", "name": "山田", "voicemail": {"pin": "1234"}},
    )
    assert response.status_code == 201
    password = response.json["password"]
    domain = tenant_of(app, "admin@acme.example").domain
    with app.app_context():
        user = db.session.scalar(select(models.User))
        assert user.a1_hash == hashlib.md5(f"101:{domain}:{password}".encode()).hexdigest()
        entry = db.session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "user.add"))
        assert entry.actor.startswith("api:script#")
    assert "password" not in api(raw, "GET", "/api/v1/users/101", token).json

    response = api(raw, "POST", "/api/v1/users", token, {"extension": "0x", "name": "", "colour": "red"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert {"extension", "name", "colour"} <= fields

    response = api(raw, "PUT", "/api/v1/users/101", token, {"name": "山田 太郎", "voicemail": {"pin": "12"}})
    assert response.status_code == 422 and response.json["errors"] == [
        {"field": "voicemail.pin", "message": "4 to 12 digits"}
    ]
    response = api(raw, "PUT", "/api/v1/users/101", token, {"name": "山田 太郎", "direction": "inbound_only"})
    assert response.status_code == 200 and response.json["direction"] == "inbound_only"
    # A new password alone is saved although the exported document does not change.
    api(
        raw,
        "PUT",
        "/api/v1/users/101",
        token,
        {"name": "山田 太郎", "direction": "inbound_only", "password": "New-pass-12345"},
    )
    with app.app_context():
        user = db.session.scalar(select(models.User))
        assert user.a1_hash == hashlib.md5(f"101:{domain}:New-pass-12345".encode()).hexdigest()
    assert api(raw, "GET", "/api/v1/users/999", token).status_code == 404
    assert api(raw, "DELETE", "/api/v1/users/101", token).status_code == 204
    assert api(raw, "GET", "/api/v1/users", token).json == []
    assert api(raw, "POST", "/api/v1/users", token, ["not", "an", "object"]).status_code == 400


def test_numbers_groups_schedules_tenant_and_trace(app, admin, session_factory):
    add_numbers(session_factory, "0312345000-0312345001")
    token = make_token(admin)
    raw = app.test_client()
    api(raw, "POST", "/api/v1/users", token, {"extension": "101", "name": "山田"})
    assert api(raw, "GET", "/api/v1/numbers/available?prefix=03", token).json == ["0312345000", "0312345001"]
    response = api(
        raw, "POST", "/api/v1/numbers", token, {"number": "0312345000", "destination": {"user": "101"}}
    )
    assert response.status_code == 201 and response.json["destination"] == {"user": "101"}
    response = api(raw, "PUT", "/api/v1/numbers/0312345000", token, {"destination": {"user": "999"}})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "destination.user"
    assert api(raw, "POST", "/api/v1/numbers", token, {"number": "0312345000"}).status_code == 422  # not free
    response = api(raw, "POST", "/api/v1/ring-groups", token, {"name": "reception", "members": ["101"]})
    assert response.status_code == 201
    schedule = {
        "name": "business",
        "open": [{"days": ["mon"], "from": "09:00", "to": "18:00"}],
        "open_destination": {"ring_group": "reception"},
    }
    assert api(raw, "POST", "/api/v1/schedules", token, schedule).status_code == 201
    api(raw, "PUT", "/api/v1/numbers/0312345000", token, {"destination": {"schedule": "business"}})
    # Renaming the group follows into the schedule that names it.
    assert (
        api(
            raw, "PUT", "/api/v1/ring-groups/reception", token, {"name": "front", "members": ["101"]}
        ).status_code
        == 200
    )
    assert api(raw, "GET", "/api/v1/schedules/business", token).json["open_destination"] == {
        "ring_group": "front"
    }
    plan = api(raw, "GET", "/api/v1/trace?from=09011112222&to=0312345000&at=2026-12-07 10:00", token).json
    assert plan["refused_by"] is None and any(
        "front" in d["why"] or "front" in d["what"] for d in plan["decisions"]
    )
    tenant = api(raw, "PATCH", "/api/v1/tenant", token, {"international_calls": True}).json
    assert tenant["international_calls"] is True
    response = api(raw, "PATCH", "/api/v1/tenant", token, {"max_external_channels": 99})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "max_external_channels"
    # A number still presented as a user's caller ID cannot be released; the error says where.
    api(raw, "PUT", "/api/v1/users/101", token, {"name": "山田", "caller_id": "0312345000"})
    response = api(raw, "DELETE", "/api/v1/numbers/0312345000", token)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "users[0].caller_id"
    api(raw, "PUT", "/api/v1/users/101", token, {"name": "山田"})
    assert api(raw, "DELETE", "/api/v1/numbers/0312345000", token).status_code == 204
    assert api(raw, "GET", "/api/v1/numbers", token).json == []


def test_openapi_document_covers_every_api_route(app):
    document = app.test_client().get("/api/openapi.json").json
    assert document["openapi"].startswith("3.")
    user = document["components"]["schemas"]["User"]
    assert {"extension", "name", "voicemail", "forward"} <= set(user["properties"])
    documented = {
        (path, method) for path, ops in document["paths"].items() for method in ops if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_trial_tenant_cannot_claim_by_api(app, session_factory):
    add_numbers(session_factory, "0312345000")
    client = PanelClient(app.test_client())
    signup(client, email="t@trial.example")
    token = make_token(client)
    response = api(app.test_client(), "POST", "/api/v1/numbers", token, {"number": "0312345000"})
    assert response.status_code == 409 and response.json["errors"][0]["field"] == "number"
    set_status(app, tenant_of(app, "t@trial.example").domain, "active")
    assert (
        api(app.test_client(), "POST", "/api/v1/numbers", token, {"number": "0312345000"}).status_code == 201
    )


def test_ivr_menus_and_the_language_by_api(app, admin, session_factory):
    add_numbers(session_factory, "0312345000-0312345000")
    token = make_token(admin)
    raw = app.test_client()
    api(raw, "POST", "/api/v1/users", token, {"extension": "101", "name": "山田"})
    menu = {"name": "main", "options": {"1": {"user": "101"}, "2": {"ivr": "nowhere"}}}
    response = api(raw, "POST", "/api/v1/ivr-menus", token, menu)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "options.2.ivr"
    menu["options"] = {"1": {"user": "101"}}
    assert api(raw, "POST", "/api/v1/ivr-menus", token, menu).status_code == 201
    api(raw, "POST", "/api/v1/numbers", token, {"number": "0312345000", "destination": {"ivr": "main"}})
    # Renaming a menu follows into the numbers that lead to it.
    renamed = api(raw, "PUT", "/api/v1/ivr-menus/main", token, dict(menu, name="reception-menu"))
    assert renamed.status_code == 200 and renamed.json["name"] == "reception-menu"
    assert api(raw, "GET", "/api/v1/numbers", token).json[0]["destination"] == {"ivr": "reception-menu"}
    assert api(raw, "GET", "/api/v1/tenant", token).json["language"] == "ja"
    assert api(raw, "PATCH", "/api/v1/tenant", token, {"language": "en"}).json["language"] == "en"
    response = api(raw, "PATCH", "/api/v1/tenant", token, {"language": "fr"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "language"
    api(raw, "PUT", "/api/v1/numbers/0312345000", token, {"destination": None})
    assert api(raw, "DELETE", "/api/v1/ivr-menus/reception-menu", token).status_code == 204
    assert api(raw, "GET", "/api/v1/ivr-menus", token).json == []
