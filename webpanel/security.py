"""Sign-in, roles, CSRF protection (Flask-WTF) and DB-backed login rate limiting."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup
from sqlalchemy import delete, func, select

from fsctl import models
from fsctl.accounts import hash_password, verify_password
from webpanel.extensions import csrf, db

log = logging.getLogger(__name__)

# Sign-in throttling, counted in the database so every panel process shares the count. Failures count
# per (account, address): a wrong password typed elsewhere never locks the owner out. After
# FREE_FAILURES the pair waits BASE_DELAY, doubling with each further failure up to MAX_DELAY; a success
# starts the count again. An address failing across many accounts (spraying) is slowed down the same
# way, that address alone.
FREE_FAILURES = 5
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
PAIR_WINDOW = dt.timedelta(hours=1)
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_IP = 30
ATTEMPTS_KEPT = dt.timedelta(days=1)
# Verified against when the e-mail is unknown, so a wrong e-mail costs as much time as a wrong password.
_DUMMY_HASH: str | None = None


def csrf_field() -> Markup:
    """The hidden field every panel form carries: Flask-WTF's signed token of this session."""
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()


def _csrf_refused(exc: CSRFError):
    log.warning("CSRF token missing or wrong on %s %s: %s", request.method, request.path, exc.description)
    # The error page words a refused token as an expired form (error.html, description "csrf").
    return render_template("error.html", code=400, name=exc.name, description="csrf"), 400


def _session_fingerprint(account: models.PanelAccount) -> str:
    """What a session cookie is bound to, checked against the database on every request.

    The cookie itself is signed, not stored: a copy of it works wherever it is sent. Anything that must
    end the sessions of an account changes this value: a new password (new hash), a new role, tenant
    or extension, and sign-out, which bumps `session_generation`.
    """
    bound = f"{account.password_hash}|{account.role}|{account.tenant_id}|{account.user_id}|{account.session_generation}"
    return hashlib.sha256(bound.encode()).hexdigest()[:32]


def _load_account() -> None:
    g.account = None
    g.tenant = None
    account_id = session.get("account_id")
    if account_id is None:
        return
    account = db.session.get(models.PanelAccount, account_id)
    fingerprint = session.get("fp") or ""
    if (
        account is None
        or account.disabled_at is not None
        or not hmac.compare_digest(fingerprint, _session_fingerprint(account))
    ):
        session.pop("account_id", None)
        return
    g.account = account
    if account.tenant_id is not None:
        g.tenant = db.session.get(models.Tenant, account.tenant_id)


def sign_in(account: models.PanelAccount) -> None:
    """Start a fresh session (no fixation: whatever the session held before is dropped)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["account_id"] = account.id
    session["fp"] = _session_fingerprint(account)
    if lang:
        session["lang"] = lang
    account.last_login_at = dt.datetime.now(dt.UTC)


def end_sessions(account: models.PanelAccount) -> None:
    """Every session of `account` ends at its next request (the caller commits)."""
    account.session_generation = (account.session_generation or 0) + 1


def sign_out() -> None:
    """End this session on the server too: a copy of the cookie is refused afterwards.

    The cookie is signed, not stored, so the account's generation is bumped: the account's other
    sessions (other browsers) end as well.
    """
    account = g.get("account")
    if account is not None:
        end_sessions(account)
        db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: the one rule for every `next` we honour.

    Browsers drop tabs and newlines inside URLs and read `\\` as `/`, so `/<TAB>/evil.example` and
    `/\\evil.example` are `//evil.example`, another site; a newline in a Location header is a 500.
    Anything with a control character or a backslash (also percent-encoded), a scheme, a host, or
    a second leading slash is refused rather than repaired.
    """
    if not target or not target.startswith("/"):
        return default
    for form in (target, unquote(target)):
        if _has_control(form) or "\\" in form or form.startswith("//"):
            return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@functools.cache
def _networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip() -> str:
    """The client's address: the peer, or behind trusted proxies (WEBPANEL_TRUSTED_PROXIES) the last
    X-Forwarded-For hop that is not one of them. Hops left of that are the client's own words."""
    address = request.remote_addr or "unknown"
    networks = _networks(current_app.config.get("WEBPANEL_TRUSTED_PROXIES") or "")
    if networks and _trusted(address, networks):
        hops = [
            hop.strip() for value in request.headers.getlist("X-Forwarded-For") for hop in value.split(",")
        ]
        for hop in reversed([hop for hop in hops if hop]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break  # garbage written by someone: keep the last address a proxy vouched for
            address = hop
            if not _trusted(hop, networks):
                break
    return address[:45]


def _wait(failures: int, free: int, last: dt.datetime | None, now: dt.datetime) -> dt.timedelta:
    if failures < free or last is None:
        return dt.timedelta(0)
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=dt.UTC)
    delay = min(BASE_DELAY * 2 ** min(failures - free, 20), MAX_DELAY)
    return max(last + delay - now, dt.timedelta(0))


def login_delay(email: str, ip: str, now: dt.datetime | None = None) -> dt.timedelta:
    """How long this (account, address) must wait before its next try; zero when it may try now."""
    now = now or dt.datetime.now(dt.UTC)
    attempt = models.LoginAttempt
    pair = (attempt.email == email, attempt.ip == ip, attempt.at >= now - PAIR_WINDOW)
    last_success = db.session.scalar(select(func.max(attempt.at)).where(*pair, attempt.success.is_(True)))
    failed = select(func.count(attempt.id), func.max(attempt.at)).where(*pair, attempt.success.is_(False))
    if last_success is not None:
        failed = failed.where(attempt.at > last_success)
    count, last = db.session.execute(failed).one()
    wait = _wait(count or 0, FREE_FAILURES, last, now)
    by_ip = select(func.count(attempt.id), func.max(attempt.at)).where(
        attempt.ip == ip, attempt.success.is_(False), attempt.at >= now - LOGIN_WINDOW
    )
    count, last = db.session.execute(by_ip).one()
    return max(wait, _wait(count or 0, MAX_FAILURES_PER_IP, last, now))


def authenticate(email: str, password: str) -> tuple[models.PanelAccount | None, dt.timedelta]:
    """(account or None, how long to wait: non-zero when throttled). Records the attempt and commits it."""
    global _DUMMY_HASH
    email = email.strip().lower()[:254]
    ip = client_ip()
    if wait := login_delay(email, ip):
        log.warning("sign-in throttled for %s from %s (%s s)", email, ip, int(wait.total_seconds()))
        return None, wait
    account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.email == email))
    if account is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(16))
        verify_password(_DUMMY_HASH, password)
        ok = False
    else:
        # A disabled account is refused like a wrong password (after the same work).
        ok = verify_password(account.password_hash, password) and account.disabled_at is None
    if not (ok and account is not None and account.totp_secret):
        record_attempt(email, ip, ok)
    # else: the right password of an account with two-step verification is not a success yet: a
    # success would start the failure count again, and an attacker who has the password could then
    # guess codes without ever being slowed down. The code step records the attempt.
    db.session.commit()
    return (account if ok else None), dt.timedelta(0)


def record_attempt(email: str, ip: str, ok: bool) -> None:
    """One sign-in attempt for the throttle (the caller commits)."""
    now = dt.datetime.now(dt.UTC)
    db.session.add(models.LoginAttempt(email=email, ip=ip, success=ok, at=now))
    if secrets.randbelow(100) == 0:
        # Keep the table small: only the last window matters for the limit, a day is plenty for forensics.
        db.session.execute(delete(models.LoginAttempt).where(models.LoginAttempt.at < now - ATTEMPTS_KEPT))


# How long the password step holds for the code step of a two-step sign-in.
SECOND_STEP_TIME = dt.timedelta(minutes=5)


def begin_second_step(account: models.PanelAccount, next_url: str) -> None:
    """The password was right and the account asks for a code: hold the account, not a session.

    Nothing is signed in yet (no account_id in the session); the pending account is bound to its
    fingerprint, so a password changed meanwhile ends the pending sign-in too.
    """
    lang = session.get("lang")
    session.clear()
    session["pending_account"] = account.id
    session["pending_fp"] = _session_fingerprint(account)
    session["pending_until"] = (dt.datetime.now(dt.UTC) + SECOND_STEP_TIME).timestamp()
    session["pending_next"] = next_url
    if lang:
        session["lang"] = lang


def pending_second_step() -> models.PanelAccount | None:
    """The account waiting for its code in this session, if still valid."""
    account_id = session.get("pending_account")
    if account_id is None or session.get("pending_until", 0) < dt.datetime.now(dt.UTC).timestamp():
        return None
    account = db.session.get(models.PanelAccount, account_id)
    if (
        account is None
        or account.disabled_at is not None
        or not account.totp_secret
        or not hmac.compare_digest(session.get("pending_fp") or "", _session_fingerprint(account))
    ):
        return None
    return account


def require(*roles: models.AccountRole) -> Callable:
    """View decorator: signed in, with one of `roles` (any role when none given)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            account = g.get("account")
            if account is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and account.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = require(models.AccountRole.ADMIN)
tenant_required = require(models.AccountRole.ADMIN, models.AccountRole.USER)
operator_required = require(models.AccountRole.OPERATOR)


def tenant_object(model: type, object_id: int) -> Any:
    """The signed-in tenant's object with this id, else 404 (never another tenant's: no IDOR)."""
    tenant = g.get("tenant")
    if tenant is None:
        abort(404)
    obj = db.session.get(model, object_id)
    if obj is None or getattr(obj, "tenant_id", None) != tenant.id:
        abort(404)
    return obj


def init_security(app: Flask) -> None:
    app.before_request(_load_account)
    # A token lives as long as the session it belongs to (PERMANENT_SESSION_LIFETIME), not an hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)  # its before_request runs after _load_account
    app.register_error_handler(CSRFError, _csrf_refused)
    app.jinja_env.globals.update(csrf_field=csrf_field)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # No inline scripts anywhere in the panel; images may be data: URIs (none today).
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
            # An injected <base> cannot re-point relative links, nor a form post anywhere else.
            "base-uri 'none'; form-action 'self'",
        )
        if g.get("account") is not None:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
