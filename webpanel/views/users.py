"""Users (extensions): list, add, edit, remove, new SIP credentials; a tenant user's own settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, or_, select

from fsctl import models
from fsctl.accounts import hash_password, password_problem
from webpanel.error_words import flash_problems
from webpanel.extensions import db
from webpanel.provisioning import generate_sip_password, new_setup_link, phone_settings
from webpanel.qr import qr_svg
from webpanel.security import admin_required, end_sessions, require, tenant_object
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import (
    PAGE_SIZE,
    actor,
    checkbox,
    confirmation_page,
    confirmed,
    destination_choices,
    destination_value,
    page_number,
    parse_destination,
)

bp = Blueprint("users", __name__, url_prefix="/users")
FORWARD_KINDS = ("always", "busy", "no_answer", "unregistered")


def _index(doc: dict, extension: str) -> int:
    for index, user in enumerate(doc["users"]):
        if user["extension"] == extension:
            return index
    abort(404)


def _keep_number(doc: dict, national: str | None) -> None:
    """A number that stops being a user's did stays with the tenant, without a destination."""
    if national and all(n["number"] != national for n in doc["numbers"]):
        if all(u.get("did") != national for u in doc["users"]):
            doc["numbers"].append({"number": national, "destination": None, "ivr_option": False})


def personal_fields(form: Any, entry: dict) -> None:
    """Voicemail, forwarding and personal schedule: what a tenant user may change on their own."""
    if form.get("do_not_disturb.shown"):  # the employee's page has its own switch instead
        entry["do_not_disturb"] = checkbox(form, "do_not_disturb")
    voicemail: dict[str, Any] = {"enabled": checkbox(form, "voicemail.enabled")}
    # The PIN is never shown on the page: an empty field keeps the stored one.
    stored_pin = (entry.get("voicemail") or {}).get("pin")
    if pin := form.get("voicemail.pin", "").strip():
        voicemail["pin"] = pin
    elif stored_pin and not checkbox(form, "voicemail.pin_clear"):
        voicemail["pin"] = stored_pin
    if email := form.get("voicemail.email", "").strip():
        voicemail["email"] = email
    voicemail["attach_audio"] = checkbox(form, "voicemail.attach_audio")
    entry["voicemail"] = voicemail
    forward: dict[str, Any] = {}
    for kind in FORWARD_KINDS:
        if (dest := parse_destination(form, f"forward.{kind}")) is not None:
            forward[kind] = dest
    forward["no_answer_seconds"] = form.get("forward.no_answer_seconds", "20").strip() or "20"
    entry["forward"] = forward
    schedule = form.get("schedule", "").strip()
    entry.pop("schedule", None)
    if schedule:
        entry["schedule"] = schedule


def admin_fields(form: Any, entry: dict) -> None:
    entry["name"] = form.get("name", "").strip()
    entry["direction"] = form.get("direction", "both")
    for key in ("caller_id", "did"):
        entry.pop(key, None)
        if value := form.get(key, "").strip():
            entry[key] = value
    entry["ring_seconds"] = form.get("ring_seconds", "20").strip() or "20"
    entry["recording"] = checkbox(form, "recording")
    personal_fields(form, entry)


def _form_context(doc: dict, entry: dict | None, errors: dict, other: list[str]) -> dict:
    forward = (entry or {}).get("forward", {})
    pickers = {kind: destination_value(forward.get(kind)) for kind in FORWARD_KINDS}
    own_did = (entry or {}).get("did")
    # Offer numbers that ring nothing yet, plus this user's own.
    free_numbers = [n["number"] for n in doc["numbers"] if n["destination"] is None]
    did_choices = sorted(set(free_numbers) | ({own_did} if own_did else set()))
    all_numbers = sorted(
        {n["number"] for n in doc["numbers"]} | {u["did"] for u in doc["users"] if u.get("did")}
    )
    return {
        "doc": doc,
        "entry": entry or {},
        "errors": errors,
        "other_errors": other,
        "choices": destination_choices(doc),
        "pickers": pickers,
        "did_choices": did_choices,
        "caller_id_choices": all_numbers,
        "schedules": [s["name"] for s in doc["schedules"]],
    }


@bp.get("/")
@admin_required
def index():
    page = page_number()
    q = request.args.get("q", "").strip()
    query = select(models.User).where(models.User.tenant_id == g.tenant.id)
    if q:
        like = f"%{q}%"
        query = query.where(or_(models.User.extension.like(like), models.User.name.like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(
        query.order_by(models.User.extension).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template("users/index.html", users=users, page=page, total=total, q=q, page_size=PAGE_SIZE)


def _credentials_page(
    tenant: models.Tenant, extension: str, name: str, password: str, done_url: str | None = None
):
    settings = phone_settings(tenant.domain, extension, password)
    user = db.session.scalar(
        select(models.User).where(models.User.tenant_id == tenant.id, models.User.extension == extension)
    )
    link = new_setup_link(user, actor())
    db.session.commit()
    return render_template(
        "users/credentials.html",
        extension=extension,
        name=name,
        settings=settings,
        setup_link=link,
        qr=qr_svg(link),
        done_url=done_url,
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    doc = current_document(g.tenant)
    if request.method == "GET":
        return render_template("users/form.html", **_form_context(doc, None, {}, []), creating=True)
    entry: dict[str, Any] = {"extension": request.form.get("extension", "").strip()}
    admin_fields(request.form, entry)
    password = generate_sip_password()
    index = len(doc["users"])

    def change(document: dict) -> None:
        document["users"].append(dict(entry, password=password))
        if entry.get("did"):
            document["numbers"] = [n for n in document["numbers"] if n["number"] != entry["did"]]

    try:
        save_tenant(
            g.tenant.id, change, actor=actor(), action="user.add", summary=f"extension {entry['extension']}"
        )
    except SaveRefused as refused:
        context = _form_context(
            doc, entry, refused.field_errors(("users", index)), refused.other_errors(("users", index))
        )
        return render_template("users/form.html", **context, creating=True), 422
    # Shown this once: only md5(ext:domain:password) is kept.
    return _credentials_page(g.tenant, entry["extension"], entry["name"], password)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = tenant_object(models.User, user_id)
    doc = current_document(g.tenant)
    index = _index(doc, user.extension)
    if request.method == "GET":
        account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.user_id == user.id))
        return render_template(
            "users/form.html",
            **_form_context(doc, doc["users"][index], {}, []),
            creating=False,
            user=user,
            login=account,
        )
    entry = dict(doc["users"][index])
    old_did = entry.get("did")
    admin_fields(request.form, entry)
    return _save_user(user, doc, index, entry, old_did, "users/form.html")


def _save_user(
    user: models.User,
    doc: dict,
    index: int,
    entry: dict,
    old_did: str | None,
    template: str,
    extra: dict | None = None,
):
    def change(document: dict) -> None:
        document["users"][index] = entry
        if entry.get("did"):
            document["numbers"] = [n for n in document["numbers"] if n["number"] != entry["did"]]
        if old_did and old_did != entry.get("did"):
            _keep_number(document, old_did)

    try:
        save_tenant(
            g.tenant.id, change, actor=actor(), action="user.update", summary=f"extension {user.extension}"
        )
    except SaveRefused as refused:
        context = _form_context(
            doc, entry, refused.field_errors(("users", index)), refused.other_errors(("users", index))
        )
        context.update(extra or {})
        context.update(creating=False, user=user)
        return render_template(template, **context), 422
    flash(gettext("Saved."), "ok")
    return redirect(request.path)


@bp.post("/<int:user_id>/delete")
@admin_required
def delete(user_id: int):
    user = tenant_object(models.User, user_id)
    if not confirmed(request.form):
        return confirmation_page(
            gettext("Remove user %(ext)s (%(name)s)?", ext=user.extension, name=user.name),
            [
                gettext(
                    "The phone set up as extension %(ext)s stops working at once: it can no longer"
                    " register, call or be called, and calls forwarded to it end.",
                    ext=user.extension,
                ),
                gettext("The user's sign-in to this panel, if any, is removed too."),
                gettext(
                    "The user's monthly fee ends: this month is still billed in full (Billing explains"
                    " the rule)."
                )
                if g.tenant.status != models.TenantStatus.TRIAL
                else gettext("No fee during the trial."),
            ],
            gettext("Remove user %(ext)s", ext=user.extension),
            url_for("users.edit", user_id=user_id),
        )

    def change(document: dict) -> None:
        index = _index(document, user.extension)
        did = document["users"].pop(index).get("did")
        _keep_number(document, did)

    try:
        save_tenant(
            g.tenant.id, change, actor=actor(), action="user.remove", summary=f"extension {user.extension}"
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("users.edit", user_id=user_id))
    flash(gettext("Removed."), "ok")
    return redirect(url_for("users.index"))


def _new_sip_password(user: models.User) -> str:
    """A new SIP password for `user`, saved (the old one stops working at the next registration)."""
    password = generate_sip_password()

    def change(document: dict) -> None:
        document["users"][_index(document, user.extension)]["password"] = password

    save_tenant(
        g.tenant.id,
        change,
        actor=actor(),
        action="user.credentials",
        summary=f"extension {user.extension}",
        force=True,
    )
    return password


@bp.post("/<int:user_id>/credentials")
@admin_required
def new_credentials(user_id: int):
    """A new SIP password (the old one stops working at the next registration)."""
    user = tenant_object(models.User, user_id)
    if not confirmed(request.form):
        return confirmation_page(
            gettext("Make a new SIP password for %(ext)s?", ext=user.extension),
            [
                gettext(
                    "The current password stops working: the phone or softphone of %(ext)s cannot make or"
                    " take calls until it is set up again with the new password (shown once, next).",
                    ext=user.extension,
                ),
                gettext("There is no charge."),
            ],
            gettext("Make a new SIP password"),
            url_for("users.edit", user_id=user_id),
        )
    password = _new_sip_password(user)
    return _credentials_page(g.tenant, user.extension, user.name, password)


@bp.post("/<int:user_id>/login")
@admin_required
def create_login(user_id: int):
    """A panel sign-in for the person using this extension (role: tenant user)."""
    user = tenant_object(models.User, user_id)
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    problem = password_problem(password)
    if "@" not in email or len(email) > 254:
        flash(gettext("Enter a valid e-mail address."), "error")
    elif problem:
        flash(gettext("Password %(problem)s.", problem=gettext(problem)), "error")
    elif db.session.scalar(select(models.PanelAccount.id).where(models.PanelAccount.email == email)):
        flash(gettext("An account with this e-mail address already exists."), "error")
    else:
        db.session.add(
            models.PanelAccount(
                email=email,
                password_hash=hash_password(password),
                role=models.AccountRole.USER,
                tenant_id=g.tenant.id,
                user_id=user.id,
                display_name=user.name,
            )
        )
        from webpanel.tenantdoc import audit

        audit(actor(), "account.create", f"{email} for extension {user.extension}", g.tenant.id)
        db.session.commit()
        flash(gettext("Sign-in created."), "ok")
    return redirect(url_for("users.edit", user_id=user_id))


def _set_login_disabled(user_id: int, disabled: bool):
    """Disable (or enable again) the panel sign-in of one of the tenant's extensions."""
    user = tenant_object(models.User, user_id)
    account = db.session.scalar(select(models.PanelAccount).where(models.PanelAccount.user_id == user.id))
    if account is None or account.tenant_id != g.tenant.id:
        abort(404)
    account.disabled_at = dt.datetime.now(dt.UTC) if disabled else None
    end_sessions(account)  # enabling again does not bring old cookies back
    from webpanel.tenantdoc import audit

    action = "account.disable" if disabled else "account.enable"
    audit(actor(), action, f"{account.email} for extension {user.extension}", g.tenant.id)
    db.session.commit()
    flash(gettext("Sign-in disabled.") if disabled else gettext("Sign-in enabled."), "ok")
    return redirect(url_for("users.edit", user_id=user_id))


@bp.post("/<int:user_id>/login/disable")
@admin_required
def disable_login(user_id: int):
    return _set_login_disabled(user_id, True)


@bp.post("/<int:user_id>/login/enable")
@admin_required
def enable_login(user_id: int):
    return _set_login_disabled(user_id, False)


def _own_user() -> models.User:
    """The signed-in employee's own extension; an account bound to nothing of this tenant gets 404."""
    user = db.session.get(models.User, g.account.user_id)
    if user is None or user.tenant_id != g.tenant.id:
        abort(404)
    return user


def reaching_numbers(doc: dict, extension: str) -> list[tuple[str, str]]:
    """(number, how) for the tenant's numbers that ring `extension`: its own, or a ring group it is in."""
    groups = {rg["name"] for rg in doc["ring_groups"] if extension in rg.get("members", [])}
    found: list[tuple[str, str]] = []
    for user in doc["users"]:
        if user["extension"] == extension and user.get("did"):
            found.append((user["did"], "own"))
    for number in doc["numbers"]:
        dest = number.get("destination") or {}
        if dest.get("user") == extension:
            found.append((number["number"], "own"))
        elif dest.get("ring_group") in groups:
            found.append((number["number"], f"group:{dest['ring_group']}"))
    return sorted(set(found))


@bp.route("/me", methods=["GET", "POST"])
@require(models.AccountRole.USER)
def me():
    """The employee's page: their numbers, do not disturb, phone settings; voicemail, forwarding,
    personal schedule (their own ring hours)."""
    user = _own_user()
    doc = current_document(g.tenant)
    index = _index(doc, user.extension)
    context = {"user": user, "dnd_switch": True, "numbers": reaching_numbers(doc, user.extension)}
    if request.method == "GET":
        return render_template("users/me.html", **_form_context(doc, doc["users"][index], {}, []), **context)
    entry = dict(doc["users"][index])
    personal_fields(request.form, entry)
    return _save_user(user, doc, index, entry, entry.get("did"), "users/me.html", context)


@bp.post("/me/do-not-disturb")
@require(models.AccountRole.USER)
def me_do_not_disturb():
    """The employee's do not disturb switch (only their own extension can be named: no id is taken)."""
    user = _own_user()
    on = checkbox(request.form, "on")

    def change(document: dict) -> None:
        document["users"][_index(document, user.extension)]["do_not_disturb"] = on

    try:
        save_tenant(
            g.tenant.id,
            change,
            actor=actor(),
            action="user.do_not_disturb",
            summary=f"extension {user.extension} {'on' if on else 'off'}",
        )
    except SaveRefused as refused:
        flash_problems(refused.problems())
        return redirect(url_for("users.me"))
    flash(gettext("Do not disturb is on.") if on else gettext("Do not disturb is off."), "ok")
    return redirect(url_for("users.me"))


@bp.post("/me/credentials")
@require(models.AccountRole.USER)
def me_credentials():
    """A new SIP password for the employee's own phone, shown once with its QR code."""
    user = _own_user()
    if not confirmed(request.form):
        return confirmation_page(
            gettext("Make a new SIP password for your phone (%(ext)s)?", ext=user.extension),
            [
                gettext(
                    "The current password stops working: your phone or softphone cannot make or take calls"
                    " until it is set up again with the new password (shown once, next)."
                ),
                gettext("There is no charge."),
            ],
            gettext("Make a new SIP password"),
            url_for("users.me"),
        )
    password = _new_sip_password(user)
    return _credentials_page(g.tenant, user.extension, user.name, password, done_url=url_for("users.me"))
