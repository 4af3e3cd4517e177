"""The panel's frame: shared model and config-version hook, i18n, CSRF, cookies, passwords, rate limits, roles."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import time
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from itsdangerous import URLSafeTimedSerializer
from panel_helpers import CSRF, PASSWORD, PanelClient, csrf_session, make_operator, signup, tenant_of
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from fsctl import cli, models
from fsctl.routing.calls import TRIAL_DAYS
from webpanel import create_app
from webpanel.extensions import db
from webpanel.i18n import CATALOGUES


def test_panel_sessions_bump_the_config_version_and_logins_do_not(app, admin, make_tenant):
    domain = make_tenant()
    with app.app_context():
        tenant = db.session.scalar(select(models.Tenant).where(models.Tenant.domain == domain))
        before = tenant.config_version
        user = tenant.users[0]
        user.ring_seconds = 33  # a Flask-SQLAlchemy session, fsctl's before_flush hook
        db.session.commit()
        db.session.refresh(tenant)
        assert tenant.config_version == before + 1
        # Panel-only rows are not routing configuration: no cache invalidation for a login.
        account = db.session.scalar(select(models.PanelAccount))
        own = db.session.get(models.Tenant, account.tenant_id)
        own_version = own.config_version
        account.last_login_at = dt.datetime.now(dt.UTC)
        db.session.commit()
        db.session.refresh(own)
        assert own.config_version == own_version


def test_panel_engine_has_the_services_sqlite_pragmas(app, database_url):
    if not database_url.startswith("sqlite"):
        return
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_panel_opens_a_sqlite_file_but_never_creates_one(tmp_path):
    # As the service does: a removed database file fails loudly instead of starting empty.
    missing = tmp_path / "gone.sqlite3"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}
    )
    with app.app_context():
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engines[None].dispose()
    assert not missing.exists()


def test_japanese_by_default_english_selectable(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in page and "ログイン" in page
    client.get("/lang/en?next=/login")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page and "ログイン" not in page


def test_japanese_dates_and_yen(app, admin):
    with app.test_request_context("/"):
        from flask import session

        from webpanel.i18n import date_time, long_date, yen

        assert long_date(dt.date(2026, 11, 25)) == "2026年11月25日(水)"
        assert yen(4900) == "4,900円"
        assert date_time(dt.datetime(2026, 11, 25, 6, 4, tzinfo=dt.UTC)) == "2026/11/25 15:04"  # JST
        session["lang"] = "en"
        from flask_babel import refresh

        refresh()
        assert yen(4900) == "¥4,900"
        assert long_date(dt.date(2026, 11, 25)) == "Wed, Nov 25, 2026"


JA_PO = CATALOGUES / "ja" / "LC_MESSAGES" / "messages.po"


def test_every_panel_message_has_a_japanese_translation():
    # The same extraction as `make translations-update`: webpanel/babel.cfg's files, _t as a keyword.
    root = CATALOGUES.parent.parent
    method_map = [("webpanel/**.py", "python"), ("webpanel/templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_t": None}
    found = {message[2] for message in extract_from_dir(str(root), method_map, keywords=keywords)}
    found = {m if isinstance(m, str) else m[0] for m in found}
    with JA_PO.open("rb") as handle:
        catalogue = read_po(handle, locale="ja")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(m for m in found if m and m not in translated)
    assert not missing, "add their Japanese to messages.po (make translations-update lists them)"
    assert len(found) > 700  # the extraction really ran over the panel


def test_the_compiled_catalogue_says_what_the_po_file_says():
    mo_path = JA_PO.with_suffix(".mo")
    assert mo_path.exists(), "run `make translations`"
    with JA_PO.open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle, locale="ja") if m.id and not m.fuzzy}
    with mo_path.open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    assert mo == po, "messages.po changed since it was compiled: run `make translations`"


def test_panel_words_settled_once():
    # A message id has one translation: "User" is an extension, as on the Users page.
    with JA_PO.open("rb") as handle:
        catalogue = read_po(handle, locale="ja")
    assert catalogue["User"].string == "ユーザー"
    assert catalogue["User %(ext)s"].string.startswith("ユーザー")


def test_forms_without_the_csrf_token_are_refused(app, admin):
    raw = admin.client
    assert raw.post("/settings", data={"international_calls": "on"}).status_code == 400
    assert (
        raw.post("/settings", data={"international_calls": "on", "csrf_token": "forged"}).status_code == 400
    )
    assert raw.post("/logout", data={}).status_code == 400
    assert admin.post("/settings", {"international_calls": "on"}).status_code == 302


def test_a_form_left_open_for_hours_is_still_accepted(app, admin):
    # The CSRF token lives as long as the session (12 hours), not Flask-WTF's default hour.
    class TwoHoursAgo(URLSafeTimedSerializer):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    csrf_session(admin.client)
    old = TwoHoursAgo(app.secret_key, salt="wtf-csrf-token").dumps(CSRF)
    response = admin.client.post("/settings", data={"international_calls": "on", "csrf_token": old})
    assert response.status_code == 302


def test_the_api_needs_no_csrf_token_but_a_bearer_token(app, admin):
    # The API never reads the session cookie, so a cross-site form cannot use it: no CSRF token.
    assert admin.client.post("/api/v1/users", json={"extension": "150"}).status_code == 401


def test_session_cookie_is_secure_httponly_samesite(app):
    raw = app.test_client()
    PanelClient(raw)
    signup(PanelClient(raw), email="cookie@acme.example")
    response = PanelClient(raw).post("/login", {"email": "cookie@acme.example", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_argon2id_and_a_password_change_ends_other_sessions(app, admin):
    with app.app_context():
        account = db.session.scalar(select(models.PanelAccount))
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash
        from fsctl.accounts import hash_password

        account.password_hash = hash_password("Another-pass-2026")
        db.session.commit()
    assert admin.get("/users/").status_code == 302  # signed out


def test_login_rate_limit_is_shared_through_the_database(app, database_url, tmp_path):
    make_operator(app, "ops@kumo.example")
    client = PanelClient(app.test_client())
    for _ in range(5):
        assert client.login("ops@kumo.example", "wrong-password-1").status_code == 401
    # Even the right password is refused now, and so it is by another panel process on the same DB.
    assert client.login("ops@kumo.example").status_code == 429
    other = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path / "other"),
            "ARGON2_FAST": True,
        }
    )
    assert PanelClient(other.test_client()).login("ops@kumo.example").status_code == 429
    with other.app_context():
        failures = db.session.scalars(
            select(models.LoginAttempt).where(models.LoginAttempt.success.is_(False))
        )
        assert len(failures.all()) == 5
        db.session.remove()
        db.engines[None].dispose()
    # Another e-mail from the same address is not blocked by these five.
    make_operator(app, "ops2@kumo.example")
    assert client.login("ops2@kumo.example").status_code == 302


def test_roles(app, admin, operator):
    assert admin.get("/operator/tenants").status_code == 403
    assert operator.get("/users/").status_code == 403
    assert operator.get("/operator/tenants").status_code == 200
    anonymous = PanelClient(app.test_client())
    response = anonymous.get("/users/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # A tenant user: their own extension, nothing of the administrator's.
    admin.post("/users/new", {"extension": "201", "name": "Hanako", "voicemail.enabled": "on"})
    with app.app_context():
        user = db.session.scalar(select(models.User).where(models.User.extension == "201"))
    admin.post(f"/users/{user.id}/login", {"email": "hanako@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    assert person.login("hanako@acme.example").status_code == 302
    assert person.get("/users/").status_code == 403
    assert person.get(f"/users/{user.id}").status_code == 403
    assert person.get("/numbers/").status_code == 403
    assert person.get("/operator/tenants").status_code == 403
    assert person.get("/users/me").status_code == 200


def test_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "存在しない" in response.get_data(as_text=True)
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.json["status"] == 404


def test_open_redirects_are_refused(app):
    client = PanelClient(app.test_client())
    signup(client, email="redir@acme.example")
    response = client.post(
        "/login?next=//evil.example/", {"email": "redir@acme.example", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_secret_key_is_generated_once_into_the_instance_folder(database_url, engine, tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path / "inst")}
    first = create_app(dict(config))
    second = create_app(dict(config))
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] and len(first.config["SECRET_KEY"]) == 64
    mode = os.stat(tmp_path / "inst" / "webpanel-secret-key").st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_fsctl_operator_create(database_url, engine, monkeypatch, app):
    monkeypatch.setattr("sys.stdin", io.StringIO("Operator-pass-1\n"))
    assert (
        cli.main(
            ["--database-url", database_url, "operator", "create", "Boss@Kumo.example", "--password-stdin"]
        )
        == 0
    )
    client = PanelClient(app.test_client())
    assert client.login("boss@kumo.example", "Operator-pass-1").status_code == 302
    assert client.get("/").headers["Location"].endswith("/operator/")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        cli.main(["--database-url", database_url, "operator", "create", "x@kumo.example", "--password-stdin"])
        == 1
    )


def test_trial_expiry_is_shown(app, client, session_factory):
    signup(client, email="late@acme.example")
    domain = tenant_of(app, "late@acme.example").domain
    with session_factory() as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain))
        tenant.trial_started_on = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date() - dt.timedelta(
            days=TRIAL_DAYS + 3
        )
        session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "トライアルは" in page and "終了しました" in page


def test_changing_ones_password_ends_the_other_sessions(app, admin):
    from panel_helpers import field_error as shown

    other = PanelClient(app.test_client())
    other.login("admin@acme.example")
    assert other.get("/users/").status_code == 200
    page = admin.post("/account", {"current": "wrong", "new": "Brand-new-pass-1"}).get_data(as_text=True)
    assert shown(page, "current") == "パスワードが正しくありません"
    page = admin.post("/account", {"current": PASSWORD, "new": "short"}).get_data(as_text=True)
    assert shown(page, "new") == "10文字以上にしてください"
    assert admin.post("/account", {"current": PASSWORD, "new": "Brand-new-pass-1"}).status_code == 302
    assert admin.get("/users/").status_code == 200  # this session goes on
    assert other.get("/users/").status_code == 302  # the other one is signed out
    assert PanelClient(app.test_client()).login("admin@acme.example", "Brand-new-pass-1").status_code == 302
