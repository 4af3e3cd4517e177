"""Password reset by e-mail: a single-use link, valid 30 minutes, stored as SHA-256.

Asking for a link answers the same page whether or not the address has an account (no account
enumeration). The link's host is WEBPANEL_BASE_URL (else the panel's own listen address), never the
request's Host header, which a client chooses: a poisoned Host would mail the victim a link to
someone else's site carrying a valid token. Using a link ends every session of the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select, update

from fsctl import models
from fsctl.accounts import hash_password, password_problem
from fsctl.mail import SmtpSettings, send, smtp_settings_from_env
from webpanel.extensions import db
from webpanel.platform import base_url
from webpanel.security import client_ip, end_sessions
from webpanel.tenantdoc import audit

log = logging.getLogger(__name__)
bp = Blueprint("reset", __name__, url_prefix="/password-reset")

TOKEN_LIFETIME = dt.timedelta(minutes=30)
# Requests for links, counted in login_attempts ("reset:<e-mail>"): per address and per e-mail an hour.
REQUEST_WINDOW = dt.timedelta(hours=1)
MAX_REQUESTS_PER_EMAIL = 3
MAX_REQUESTS_PER_IP = 20


def smtp_settings() -> SmtpSettings:
    return current_app.config.get("SMTP_SETTINGS") or smtp_settings_from_env()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _too_many(email: str, ip: str, now: dt.datetime) -> bool:
    attempt = models.LoginAttempt
    recent = select(func.count(attempt.id)).where(
        attempt.email.like("reset:%"), attempt.at >= now - REQUEST_WINDOW
    )
    by_email = db.session.scalar(recent.where(attempt.email == f"reset:{email}")) or 0
    by_ip = db.session.scalar(recent.where(attempt.ip == ip)) or 0
    return by_email >= MAX_REQUESTS_PER_EMAIL or by_ip >= MAX_REQUESTS_PER_IP


def _message(account: models.PanelAccount, link: str, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "【kumo】パスワードの再設定 / Password reset"
    message["From"] = smtp.sender
    message["To"] = account.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or "kumo.invalid")
    minutes = int(TOKEN_LIFETIME.total_seconds() // 60)
    message.set_content(
        "kumo のパスワードを再設定するには、次のリンクを開いてください。\n"
        f"リンクは{minutes}分間、1回だけ使えます。\n{link}\n"
        "お心当たりがない場合は、このメールを破棄してください。パスワードは変わりません。\n\n"
        "To choose a new kumo password, open this link.\n"
        f"It works once, for {minutes} minutes.\n{link}\n"
        "If you did not ask for it, ignore this e-mail: your password stays as it is.\n"
    )
    return message


def _issue(account: models.PanelAccount, now: dt.datetime) -> None:
    token = secrets.token_urlsafe(32)
    db.session.add(
        models.PasswordReset(
            account_id=account.id, token_hash=_hash(token), created_at=now, expires_at=now + TOKEN_LIFETIME
        )
    )
    db.session.commit()
    link = base_url() + url_for("reset.choose", token=token)
    smtp = smtp_settings()
    if not smtp.enabled:
        log.error("password reset for %s not sent: FSCTL_SMTP_HOST is not set", account.email)
        return
    try:
        send(_message(account, link, smtp), smtp)
    except OSError as exc:  # smtplib's errors are OSErrors
        log.error("password reset mail to %s failed: %s", account.email, exc)


@bp.route("", methods=["GET", "POST"])
def request_link():
    if request.method == "GET":
        return render_template("reset/request.html")
    email = request.form.get("email", "").strip().lower()[:254]
    now, ip = dt.datetime.now(dt.UTC), client_ip()
    if "@" not in email:
        return render_template(
            "reset/request.html", errors={"email": gettext("Enter a valid e-mail address.")}
        ), 422
    if _too_many(email, ip, now):
        log.warning("password reset requests throttled for %s from %s", email, ip)
    else:
        db.session.add(models.LoginAttempt(email=f"reset:{email}", ip=ip, success=True, at=now))
        db.session.commit()
        account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.email == email))
        if account is not None and account.disabled_at is None:
            _issue(account, now)
    # The same answer in every case: whether the address has an account is not told.
    return render_template("reset/request.html", sent=True)


def _valid(token: str) -> models.PasswordReset | None:
    row = db.session.scalar(
        select(models.PasswordReset).where(models.PasswordReset.token_hash == _hash(token))
    )
    if row is None or row.used_at is not None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    account = db.session.get(models.PanelAccount, row.account_id)
    if expires <= dt.datetime.now(dt.UTC) or account is None or account.disabled_at is not None:
        return None
    return row


@bp.route("/<token>", methods=["GET", "POST"])
def choose(token: str):
    row = _valid(token)
    if row is None:
        return render_template("reset/choose.html", invalid=True, errors={}), 404
    if request.method == "GET":
        return render_template("reset/choose.html", errors={})
    new = request.form.get("new", "")
    if problem := password_problem(new):
        return render_template("reset/choose.html", errors={"new": problem}), 422
    account = db.session.get(models.PanelAccount, row.account_id)
    account.password_hash = hash_password(new)
    end_sessions(account)
    # Single use: this link and every other one still open for the account.
    db.session.execute(
        update(models.PasswordReset)
        .where(models.PasswordReset.account_id == account.id, models.PasswordReset.used_at.is_(None))
        .values(used_at=dt.datetime.now(dt.UTC))
    )
    audit(f"panel:{account.email}", "account.password_reset", account.email, account.tenant_id)
    db.session.commit()
    flash(gettext("Your password was changed. Sign in with the new one."), "ok")
    return redirect(url_for("auth.login"))
