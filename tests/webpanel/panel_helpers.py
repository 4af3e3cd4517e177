"""Helpers for the panel tests: a CSRF-aware client, sign-up, roles."""

from __future__ import annotations

import re
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from fsctl import models
from fsctl.accounts import create_operator
from webpanel.extensions import db

PASSWORD = "Panel-pass-2026"
CSRF = "test-csrf-token"  # the session's CSRF secret; forms carry it signed (csrf_session)


def csrf_session(client, secret: str = CSRF, **session_kwargs: Any) -> str:
    """Put a known CSRF secret in the test client's session; returns the token a form carries.

    Flask-WTF keeps the secret in the session and puts it, signed with the app's key, in each form.
    """
    with client.session_transaction(**session_kwargs) as session:
        session["csrf_token"] = secret
    signer = URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token")
    return signer.dumps(secret)


class PanelClient:
    """Flask's test client with the CSRF token filled in on every form post."""

    def __init__(self, client):
        self.client = client
        self._reset_csrf()

    def _reset_csrf(self) -> None:
        self.csrf_token = csrf_session(self.client)

    def get(self, url: str, **kwargs: Any):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs: Any):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token)
        response = self.client.post(url, data=data, **kwargs)
        # Signing in or up starts a fresh session; put the known CSRF token back.
        self._reset_csrf()
        return response

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/login", {"email": email, "password": password})


def signup(
    client: PanelClient, company: str = "Acme Trading", email: str = "admin@acme.example", **extra: str
):
    data = {
        "company": company,
        "contact_name": "山田 太郎",
        "phone": "03-1234-5678",
        "email": email,
        "password": PASSWORD,
    }
    # Many tests sign up several "Acme Trading"s: they are different companies (see test_signup_form).
    data.setdefault("different_company", "on")
    data.update(extra)
    return client.post("/signup", data)


def tenant_of(app, email: str) -> models.Tenant:
    with app.app_context():
        account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.email == email))
        return db.session.get(models.Tenant, account.tenant_id)


def set_status(app, domain: str, status: str) -> None:
    with app.app_context():
        tenant = db.session.scalar(select(models.Tenant).where(models.Tenant.domain == domain))
        tenant.status = models.TenantStatus(status)
        db.session.commit()


def make_operator(app, email: str = "ops@kumo.example") -> str:
    with app.app_context():
        create_operator(db.session, email, PASSWORD)
        db.session.commit()
    return email


def field_error(html: str, field: str) -> str | None:
    """The error message shown under a form field, if any."""
    match = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', html)
    return match.group(1) if match else None
