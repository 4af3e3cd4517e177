"""Sign-in, sign-out and sign-up (a new tenant in trial with its administrator)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import secrets
import unicodedata
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from fsctl import models
from fsctl.accounts import hash_password, password_problem, verify_password
from fsctl.schemas import text
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file
from webpanel import two_factor
from webpanel.extensions import db
from webpanel.platform import get_setting
from webpanel.qr import qr_svg
from webpanel.security import (
    authenticate,
    begin_second_step,
    client_ip,
    end_sessions,
    login_delay,
    pending_second_step,
    record_attempt,
    require,
    safe_next,
    sign_in,
    sign_out,
)
from webpanel.tenantdoc import audit
from webpanel.views.common import checkbox

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

PHONE = validate.Regexp(r"^[0-9+\-() ]{6,20}$", error="digits, spaces, + - ( ) only")


class SignupSchema(Schema):
    """The sign-up form (and the only fields it takes)."""

    company = fields.String(required=True, validate=text(1, 200))
    contact_name = fields.String(required=True, validate=text(1, 100))
    phone = fields.String(required=True, validate=PHONE)
    email = fields.Email(required=True, validate=validate.Length(3, 254))
    password = fields.String(
        required=True, validate=validate.Length(10, 128, error="must be 10 to 128 characters")
    )


def _slug_candidates(company: str, email: str) -> list[str]:
    ascii_name = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:30].strip("-")
    mail_label = email.split("@")[-1].split(".")[0].lower()
    candidates = [s for s in (slug, re.sub(r"[^a-z0-9-]", "", mail_label)) if len(s) >= 3 and s[0].isalpha()]
    # Japanese company names have no ASCII letters; fall back to a random, unguessable label.
    candidates.append("t" + secrets.token_hex(4))
    return candidates


def new_sip_domain(company: str, email: str) -> str:
    """<slug>.<platform suffix>, not yet used by any tenant."""
    suffix = get_setting("sip_domain_suffix")
    for base in _slug_candidates(company, email):
        for n in range(1, 20):
            domain = f"{base if n == 1 else f'{base}-{n}'}.{suffix}"
            if db.session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain)) is None:
                return domain
    return f"t{secrets.token_hex(6)}.{suffix}"


MAX_SIGNUPS_PER_IP = 5
SIGNUP_WINDOW = dt.timedelta(hours=1)


def signups_blocked(ip: str) -> bool:
    """True when this address created MAX_SIGNUPS_PER_IP tenants within the last hour (trial abuse)."""
    since = dt.datetime.now(dt.UTC) - SIGNUP_WINDOW
    count = db.session.scalar(
        select(func.count(models.LoginAttempt.id)).where(
            models.LoginAttempt.ip == ip,
            models.LoginAttempt.email.like("signup:%"),
            models.LoginAttempt.at >= since,
        )
    )
    return (count or 0) >= MAX_SIGNUPS_PER_IP


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        account, wait = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if wait:
            return _throttled(wait, "login.html")
        if account is None:
            return render_template("login.html", error=gettext("Wrong e-mail address or password.")), 401
        next_url = safe_next(request.args.get("next"), url_for("tenant.home"))
        if account.totp_secret:
            begin_second_step(account, next_url)
            return redirect(url_for("auth.login_code"))
        sign_in(account)
        db.session.commit()
        return redirect(next_url)
    return render_template("login.html")


def _throttled(wait: dt.timedelta, template: str, **context):
    seconds = math.ceil(wait.total_seconds())
    message = gettext(
        "Too many failed sign-ins from your network. Try again in %(minutes)s minutes.",
        minutes=math.ceil(seconds / 60),
    )
    return render_template(template, error=message, **context), 429, {"Retry-After": str(seconds)}


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a sign-in with two-step verification: a code from the app, or a recovery code."""
    account = pending_second_step()
    if account is None:
        flash(gettext("Your sign-in expired. Enter your e-mail address and password again."), "error")
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        ip = client_ip()
        if wait := login_delay(account.email, ip):
            return _throttled(wait, "login_code.html")
        ok = two_factor.verify(account, request.form.get("code", ""))
        record_attempt(account.email, ip, ok)
        if not ok:
            db.session.commit()
            return render_template("login_code.html", error=gettext("That code is not right.")), 401
        next_url = session.get("pending_next") or url_for("tenant.home")
        sign_in(account)
        if not account.totp_recovery:
            flash(gettext("You used your last recovery code. Make new ones under My account."), "error")
        db.session.commit()
        return redirect(safe_next(next_url, url_for("tenant.home")))
    return render_template("login_code.html")


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST" and signups_blocked(client_ip()):
        message = gettext("Too many sign-ups from your network. Please try again later.")
        return render_template("signup.html", errors={"company": message}, form=form), 429
    same_name = False
    if request.method == "POST":
        errors, data = _signup_errors(form)
        if not errors and not checkbox(form, "different_company"):
            same_name = _company_taken(data["company"])
            if same_name:
                errors["company"] = gettext(
                    "A company with this name already uses kumo. If it is yours, ask its administrator"
                    " to add you instead of starting a second trial. If yours is a different company,"
                    " tick the box below and send again."
                )
        if not errors:
            account = _create_tenant(data, data["email"])
            if account is not None:
                # Counted with the sign-in attempts: the same table, the same window, every process.
                db.session.add(
                    models.LoginAttempt(email=f"signup:{data['email']}", ip=client_ip(), success=True)
                )
                sign_in(account)
                db.session.commit()
                flash(gettext("Welcome! Your 30-day trial has started."), "ok")
                return redirect(url_for("tenant.home"))
            errors["company"] = gettext("The account could not be created. Please try again.")
    return render_template("signup.html", errors=errors, form=form, same_name=same_name)


def _signup_errors(form) -> tuple[dict[str, str], dict]:
    """Every field's problem at once (not the password only after the rest passed), in words that
    say what to do: an empty field asks to be filled in rather than quoting a length."""
    raw = {k: form.get(k, "") for k in SignupSchema().fields}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        if not value.strip():
            errors[key] = gettext("Please fill this in.")
    try:
        data = SignupSchema().load(raw)
    except ValidationError as exc:
        data = exc.valid_data or {}
        for key, messages in exc.messages.items():
            errors.setdefault(key, messages[0])
    if "password" not in errors and (problem := password_problem(raw["password"])):
        errors["password"] = problem
    if "email" not in errors:
        email = data["email"] = data["email"].strip().lower()
        if db.session.scalar(select(models.PanelAccount.id).where(models.PanelAccount.email == email)):
            errors["email"] = "an account with this e-mail address already exists"
    return errors, data


def _name_key(name: str) -> str:
    """株式会社ＡＢＣ and 株式会社 abc are the same name: NFKC, case and spaces folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def _company_taken(company: str) -> bool:
    """Whether a tenant already has this company name (one query, only on a sign-up)."""
    key = _name_key(company)
    names = db.session.scalars(
        select(models.Tenant.name).where(func.lower(func.replace(models.Tenant.name, " ", "")) == key)
    ).all()
    if names:
        return True
    # Full-width letters or ideographic spaces in a stored name: compare in Python, few rows share a prefix.
    prefix = key[:2]
    candidates = db.session.scalars(
        select(models.Tenant.name).where(models.Tenant.name.like(f"%{prefix}%")).limit(200)
    ).all()
    return any(_name_key(n) == key for n in candidates)


def _create_tenant(data: dict, email: str) -> models.PanelAccount | None:
    domain = new_sip_domain(data["company"], email)
    # The trial runs on the customer's calendar, not the server's UTC date.
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    document = {
        "domain": domain,
        "name": data["company"],
        "status": "trial",
        "trial_started_on": today.isoformat(),
    }
    try:
        result = tenant_file().apply(db.session, document, actor=f"signup:{email}")
    except ConfigError as exc:
        db.session.rollback()
        log.warning("sign-up of %s refused: %s", domain, exc.errors)
        return None
    tenant = db.session.scalar(select(models.Tenant).where(models.Tenant.domain == result.domain))
    db.session.add(
        models.TenantProfile(
            tenant_id=tenant.id, contact_name=data["contact_name"], phone=data["phone"], email=email
        )
    )
    account = models.PanelAccount(
        email=email,
        password_hash=hash_password(data["password"]),
        role=models.AccountRole.ADMIN,
        tenant_id=tenant.id,
        display_name=data["contact_name"],
    )
    db.session.add(account)
    db.session.flush()
    log.info("sign-up: tenant %s for %s", domain, email)
    return account


@bp.route("/account", methods=["GET", "POST"])
@require()
def account():
    """One's own sign-in: the panel password and two-step verification (other sessions of the
    account end when either changes: see security)."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action", "password")
        if action in _TWO_STEP_ACTIONS:
            return _TWO_STEP_ACTIONS[action]()
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        if not verify_password(g.account.password_hash, current):
            errors["current"] = "wrong password"
        elif problem := password_problem(new):
            errors["new"] = problem
        else:
            g.account.password_hash = hash_password(new)
            audit(f"panel:{g.account.email}", "account.password", g.account.email, g.account.tenant_id)
            sign_in(g.account)  # this session continues under the new fingerprint
            db.session.commit()
            flash(gettext("Your password was changed."), "ok")
            return redirect(url_for("auth.account"))
    return _account_page(errors)


def _account_page(errors: dict[str, str] | None = None, status: int = 200, **context):
    setup_secret = session.get("totp_setup")
    if setup_secret and not g.account.totp_secret:
        uri = two_factor.provisioning_uri(setup_secret, g.account.email, g.tenant.name if g.tenant else "")
        context.update(setup_secret=setup_secret, setup_qr=qr_svg(uri, box_size=6))
    return (
        render_template(
            "account.html",
            errors=errors or {},
            recovery_left=two_factor.recovery_codes_left(g.account),
            **context,
        ),
        status,
    )


def _two_step_start():
    """Make a secret and show it; nothing is stored until a code from the app confirms it."""
    if g.account.totp_secret:
        return redirect(url_for("auth.account"))
    session["totp_setup"] = two_factor.new_secret()
    return _account_page()


def _two_step_confirm():
    secret = session.get("totp_setup")
    if not secret or g.account.totp_secret:
        return redirect(url_for("auth.account"))
    step = two_factor.accepted_step(secret, request.form.get("code", ""), None)
    if step is None:
        return _account_page({"code": gettext("That code is not right.")}, 400)
    codes = two_factor.turn_on(g.account, secret, step)
    session.pop("totp_setup", None)
    _sign_in_changed("account.two_step_on")
    return _account_page(recovery_codes=codes)


def _two_step_off():
    if not g.account.totp_secret:
        return redirect(url_for("auth.account"))
    errors = _password_and_code_errors()
    if errors:
        return _account_page(errors, 400)
    two_factor.turn_off(g.account)
    _sign_in_changed("account.two_step_off")
    flash(gettext("Two-step verification is off."), "ok")
    return redirect(url_for("auth.account"))


def _two_step_new_codes():
    if not g.account.totp_secret:
        return redirect(url_for("auth.account"))
    errors = _password_and_code_errors()
    if errors:
        return _account_page(errors, 400)
    codes = two_factor.new_recovery_codes()
    g.account.totp_recovery = two_factor.recovery_hashes(codes)
    audit(f"panel:{g.account.email}", "account.recovery_codes", g.account.email, g.account.tenant_id)
    db.session.commit()
    return _account_page(recovery_codes=codes)


def _password_and_code_errors() -> dict[str, str]:
    """Turning protection off (or making new codes) takes the password and a code: a session left
    open on a shared PC must not be enough. A code typed here counts like one at sign-in."""
    errors: dict[str, str] = {}
    ip = client_ip()
    if wait := login_delay(g.account.email, ip):
        errors["code"] = gettext(
            "Too many failed sign-ins from your network. Try again in %(minutes)s minutes.",
            minutes=math.ceil(wait.total_seconds() / 60),
        )
        return errors
    if not verify_password(g.account.password_hash, request.form.get("current", "")):
        errors["current"] = "wrong password"
    elif not two_factor.verify(g.account, request.form.get("code", "")):
        errors["code"] = gettext("That code is not right.")
    if errors:
        record_attempt(g.account.email, ip, False)
        db.session.commit()
    return errors


def _sign_in_changed(what: str) -> None:
    """How this account signs in changed: its other sessions end, this one goes on."""
    audit(f"panel:{g.account.email}", what, g.account.email, g.account.tenant_id)
    end_sessions(g.account)
    sign_in(g.account)
    db.session.commit()


_TWO_STEP_ACTIONS = {
    "two-step-start": _two_step_start,
    "two-step-confirm": _two_step_confirm,
    "two-step-off": _two_step_off,
    "two-step-codes": _two_step_new_codes,
}


@bp.get("/lang/<code>")
def language(code: str):
    from webpanel.i18n import LANGUAGES

    if code in LANGUAGES:
        session["lang"] = code
        if g.get("account") is not None:
            g.account.locale = code
            db.session.commit()
    return redirect(safe_next(request.args.get("next"), "/"))
