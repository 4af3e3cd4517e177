"""Two-step verification (TOTP) for panel accounts: set up with a confirmed code, asked after the
password, replay refused, recovery codes once each, throttled like passwords, turned off only with
the password and a code."""

from __future__ import annotations

import re
import time

import pyotp
from panel_helpers import PASSWORD, PanelClient, field_error, signup
from sqlalchemy import select

from fsctl import models
from webpanel import two_factor
from webpanel.extensions import db

EMAIL = "admin@acme.example"


def _account(app) -> models.PanelAccount:
    with app.app_context():
        account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.email == EMAIL))
        db.session.expunge(account)
        return account


def _set_up(admin: PanelClient) -> tuple[str, list[str]]:
    """Turn it on from the account page as a user would; the secret and the recovery codes shown."""
    page = admin.post("/account", {"action": "two-step-start"}).get_data(as_text=True)
    secret = re.search(r'id="two-step-secret">([A-Z2-7]+)<', page).group(1)
    assert 'id="two-step-qr"><svg' in page
    page = admin.post("/account", {"action": "two-step-confirm", "code": pyotp.TOTP(secret).now()})
    html = page.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2})</code></li>", html)
    return secret, codes


def _code(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + steps_ahead * totp.interval)


def test_a_secret_is_stored_only_once_a_code_from_it_was_typed(app, admin):
    page = admin.post("/account", {"action": "two-step-start"}).get_data(as_text=True)
    assert "2段階認証" in page and 'id="two-step-secret"' in page
    assert _account(app).totp_secret is None  # shown, not stored
    response = admin.post("/account", {"action": "two-step-confirm", "code": "000000"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "code") == "コードが正しくありません。"
    assert _account(app).totp_secret is None

    secret = re.search(r'id="two-step-secret">([A-Z2-7]+)<', page).group(1)
    # As an app shows it ("123 456") or typed with a Japanese IME's full-width digits.
    code = _code(secret)
    typed = f"{code[:3]} {code[3:]}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = admin.post("/account", {"action": "two-step-confirm", "code": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="recovery-codes"' in html
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", html)
    account = _account(app)
    assert account.totp_secret == secret and len(codes) == 8 == two_factor.recovery_codes_left(account)
    assert all(code not in account.totp_recovery for code in codes)  # only hashes are kept
    # The page now says it is on, and the codes are never shown again.
    again = admin.get("/account").get_data(as_text=True)
    assert 'id="two-step-state">オン<' in again and codes[0] not in again


def test_sign_in_asks_for_the_code_and_a_code_works_once(app, admin):
    secret, _codes = _set_up(admin)
    client = PanelClient(app.test_client())
    response = client.login(EMAIL)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    # The password alone opens nothing.
    assert client.get("/users/").status_code == 302
    assert client.get("/users/").headers["Location"].startswith("/login")
    wrong = client.post("/login/code", {"code": "123456" if _code(secret) != "123456" else "654321"})
    assert wrong.status_code == 401 and "コードが正しくありません。" in wrong.get_data(as_text=True)
    # The set-up consumed the current step: the next step's code (drift allowed) signs in.
    code = _code(secret, 1)
    response = client.post("/login/code", {"code": code})
    assert response.status_code == 302 and client.get("/users/").status_code == 200

    # The same code again (replayed) is refused even with the right password.
    other = PanelClient(app.test_client())
    other.login(EMAIL)
    assert other.post("/login/code", {"code": code}).status_code == 401


def test_a_recovery_code_works_once_in_place_of_the_app(app, admin):
    _secret, codes = _set_up(admin)
    first = PanelClient(app.test_client())
    first.login(EMAIL)
    assert first.post("/login/code", {"code": codes[0].upper()}).status_code == 302
    assert two_factor.recovery_codes_left(_account(app)) == 7
    second = PanelClient(app.test_client())
    second.login(EMAIL)
    assert second.post("/login/code", {"code": codes[0]}).status_code == 401


def test_the_code_step_needs_the_password_step_of_the_same_session_and_expires(app, admin, monkeypatch):
    secret, _ = _set_up(admin)
    stranger = PanelClient(app.test_client())
    response = stranger.post("/login/code", {"code": _code(secret, 1)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")

    late = PanelClient(app.test_client())
    late.login(EMAIL)
    real_time = time.time
    with late.client.session_transaction() as session:
        session["pending_until"] = real_time() - 1
    response = late.post("/login/code", {"code": _code(secret, 1)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_wrong_codes_are_throttled_and_a_right_password_does_not_reset_the_count(app, admin):
    secret, _ = _set_up(admin)
    client = PanelClient(app.test_client())
    wrong = "000000" if _code(secret) != "000000" else "111111"
    statuses = []
    for _ in range(7):
        # The attacker knows the password: each new password step must not clear the failures.
        client.login(EMAIL)
        statuses.append(client.post("/login/code", {"code": wrong}).status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    # Throttled even with the right code now.
    client.login(EMAIL)
    response = client.post("/login/code", {"code": _code(secret, 1)})
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_turning_it_off_takes_the_password_and_a_code_and_ends_other_sessions(app, admin):
    secret, codes = _set_up(admin)
    elsewhere = PanelClient(app.test_client())
    elsewhere.login(EMAIL)
    assert elsewhere.post("/login/code", {"code": codes[0]}).status_code == 302
    assert elsewhere.get("/users/").status_code == 200

    response = admin.post("/account", {"action": "two-step-off", "current": "wrong-password", "code": ""})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "current")
    response = admin.post("/account", {"action": "two-step-off", "current": PASSWORD, "code": "000000x"})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "code")
    assert _account(app).totp_secret == secret

    # The next step's code: the set-up used the current one.
    response = admin.post(
        "/account", {"action": "two-step-off", "current": PASSWORD, "code": _code(secret, 1)}
    )
    assert response.status_code == 302
    assert _account(app).totp_secret is None and _account(app).totp_recovery == ""
    assert admin.get("/users/").status_code == 200  # this session goes on
    assert elsewhere.get("/users/").status_code == 302  # the other one ended
    # Signing in is one step again.
    assert not PanelClient(app.test_client()).login(EMAIL).headers["Location"].endswith("/login/code")


def test_new_recovery_codes_replace_the_old_ones(app, admin):
    _secret, codes = _set_up(admin)
    response = admin.post("/account", {"action": "two-step-codes", "current": PASSWORD, "code": codes[1]})
    fresh = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", response.get_data(as_text=True))
    assert len(fresh) == 8 and not set(fresh) & set(codes)
    client = PanelClient(app.test_client())
    client.login(EMAIL)
    assert client.post("/login/code", {"code": codes[2]}).status_code == 401
    assert client.post("/login/code", {"code": fresh[0]}).status_code == 302


def test_codes_from_a_wrong_step_or_format_are_refused():
    secret = two_factor.new_secret()
    totp = pyotp.TOTP(secret)
    now = 1_795_600_000.0
    step = int(now) // 30
    assert two_factor.accepted_step(secret, totp.at(now), None, now) == step
    assert two_factor.accepted_step(secret, totp.at(now - 30), None, now) == step - 1
    assert two_factor.accepted_step(secret, totp.at(now - 90), None, now) is None  # too old
    assert two_factor.accepted_step(secret, totp.at(now), step, now) is None  # used
    assert two_factor.accepted_step(secret, "12345", None, now) is None
    assert two_factor.accepted_step(secret, "abcdef", None, now) is None
    uri = two_factor.provisioning_uri(secret, "a@b.example", "Acme")
    assert uri.startswith("otpauth://totp/kumo:") and f"secret={secret}" in uri and "issuer=kumo" in uri


def test_another_administrator_turns_it_off_for_a_colleague_who_lost_everything(app, admin):
    _set_up(admin)
    admin.post(
        "/administrators/",
        {"email": "second@acme.example", "display_name": "Second", "password": PASSWORD},
    )
    colleague = PanelClient(app.test_client())
    assert colleague.login("second@acme.example").status_code == 302
    account_id = _account(app).id
    page = colleague.get("/administrators/").get_data(as_text=True)
    assert f"/administrators/{account_id}/two-step-off" in page
    # Asked first, with the consequence; nothing changes until confirmed.
    asked = colleague.post(f"/administrators/{account_id}/two-step-off")
    assert asked.status_code == 200 and "admin@acme.example" in asked.get_data(as_text=True)
    assert _account(app).totp_secret
    response = colleague.post(f"/administrators/{account_id}/two-step-off", {"confirm": "yes"})
    assert response.status_code == 302 and _account(app).totp_secret is None
    assert admin.get("/users/").status_code == 302  # the owner's sessions ended
    assert not PanelClient(app.test_client()).login(EMAIL).headers["Location"].endswith("/login/code")
    # Never another company's administrator.
    signup(PanelClient(app.test_client()), company="Beta Works", email="boss@beta.example")
    with app.app_context():
        other = db.session.scalar(
            select(models.PanelAccount).where(models.PanelAccount.email == "boss@beta.example")
        )
        other.totp_secret = two_factor.new_secret()
        other_id = other.id
        db.session.commit()
    assert colleague.post(f"/administrators/{other_id}/two-step-off", {"confirm": "yes"}).status_code == 404
    with app.app_context():
        assert db.session.get(models.PanelAccount, other_id).totp_secret
