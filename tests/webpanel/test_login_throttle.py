"""Sign-in throttling cannot be used to lock someone out.

Failures count per (account, address) with growing delays; an address that fails across many accounts
is slowed down itself; X-Forwarded-For is believed only from the configured trusted proxies.
"""

from __future__ import annotations

import datetime as dt

import pytest
from panel_helpers import PASSWORD, PanelClient, make_operator
from sqlalchemy import select

from fsctl import models
from webpanel import create_app
from webpanel.extensions import db
from webpanel.security import BASE_DELAY, FREE_FAILURES, MAX_DELAY, login_delay

OWNER, ATTACKER, PROXY = "198.51.100.7", "203.0.113.9", "10.0.0.2"


def sign_in(app, email: str, password: str, address: str, forwarded: str | None = None):
    client = PanelClient(app.test_client())
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": client.csrf_token},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def age_attempts(app, by: dt.timedelta) -> None:
    """Move every recorded attempt `by` into the past (time passing, without sleeping)."""
    with app.app_context():
        for attempt in db.session.scalars(select(models.LoginAttempt)):
            attempt.at = attempt.at - by
        db.session.commit()


@pytest.fixture
def owner(app) -> str:
    return make_operator(app, "owner@kumo.example")


def test_failures_from_another_address_never_lock_the_owner_out(app, owner):
    for _ in range(40):
        assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code in (401, 429)
    assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 429
    assert sign_in(app, owner, PASSWORD, ATTACKER).status_code == 429  # even the right one, from there
    assert sign_in(app, owner, PASSWORD, OWNER).status_code == 302


def test_delays_grow_per_account_and_address(app, owner):
    for _ in range(FREE_FAILURES):
        assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 401
    response = sign_in(app, owner, "wrong-password-1", ATTACKER)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) <= BASE_DELAY.seconds
    age_attempts(app, BASE_DELAY)
    assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 401
    # One more failure: the next wait is twice as long.
    age_attempts(app, BASE_DELAY)
    assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 429
    age_attempts(app, BASE_DELAY)
    assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 401
    with app.app_context():
        wait = login_delay(owner, ATTACKER)
    assert BASE_DELAY * 2 < wait <= BASE_DELAY * 4 and wait <= MAX_DELAY
    # Once the wait is over the right password works, and a success starts the count again.
    age_attempts(app, MAX_DELAY)
    assert sign_in(app, owner, PASSWORD, ATTACKER).status_code == 302
    assert sign_in(app, owner, "wrong-password-1", ATTACKER).status_code == 401


def test_an_address_spraying_many_accounts_is_slowed_down_alone(app):
    emails = [make_operator(app, f"ops{n}@kumo.example") for n in range(3)]
    for n in range(30):
        sign_in(app, f"nobody{n}@kumo.example", "wrong-password-1", ATTACKER)
    assert sign_in(app, emails[0], PASSWORD, ATTACKER).status_code == 429
    assert sign_in(app, emails[0], PASSWORD, OWNER).status_code == 302


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, owner):
    # Without trusted proxies, a made-up X-Forwarded-For does not give an attacker fresh addresses.
    for n in range(FREE_FAILURES + 1):
        sign_in(app, owner, "wrong-password-1", ATTACKER, forwarded=f"192.0.2.{n}")
    assert sign_in(app, owner, PASSWORD, ATTACKER, forwarded=OWNER).status_code == 429


def test_behind_a_trusted_proxy_each_client_counts_alone(database_url, engine, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path / "proxied"),
            "ARGON2_FAST": True,
            "WEBPANEL_TRUSTED_PROXIES": f"{PROXY}, 10.1.0.0/16",
        }
    )
    try:
        owner = make_operator(app, "owner@kumo.example")
        for _ in range(FREE_FAILURES + 1):
            # The attacker prepends a forged hop; the proxies append the address they saw.
            sign_in(app, owner, "wrong-password-1", PROXY, forwarded=f"{OWNER}, {ATTACKER}, 10.1.2.3")
        assert sign_in(app, owner, PASSWORD, PROXY, forwarded=f"{OWNER}, {ATTACKER}").status_code == 429
        assert sign_in(app, owner, PASSWORD, PROXY, forwarded=OWNER).status_code == 302
        with app.app_context():
            ips = set(db.session.scalars(select(models.LoginAttempt.ip)))
        assert ips == {ATTACKER, OWNER}
        # The same header from an address that is not a trusted proxy is ignored.
        assert sign_in(app, owner, PASSWORD, "192.0.2.50", forwarded=ATTACKER).status_code == 302
    finally:
        with app.app_context():
            db.session.remove()
            db.engines[None].dispose()
