"""Phone set-up: the link a softphone fetches its account from (no sign-in: the token is the key),
the administrator's set-up link page for a user, and the welcome e-mail that carries one."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from fsctl import models
from fsctl.mail import send
from webpanel.application import smtp_settings
from webpanel.extensions import db
from webpanel.platform import base_url, get_setting
from webpanel.provisioning import MAILED_LINK_LIFETIME, linphone_config, new_setup_link, take_setup_link
from webpanel.qr import qr_svg
from webpanel.security import admin_required, tenant_object
from webpanel.tenantdoc import audit
from webpanel.views.common import actor

log = logging.getLogger(__name__)
bp = Blueprint("provision", __name__)


@bp.get("/provision/<token>")
def fetch(token: str):
    """What Linphone fetches: the account once, then 404 (a copied link is worth nothing)."""
    user = take_setup_link(token[:100])
    if user is None:
        db.session.rollback()
        abort(404)
    tenant = db.session.get(models.Tenant, user.tenant_id)
    body = linphone_config(tenant, user)
    audit(
        f"phone:{user.extension}@{tenant.domain}",
        "user.provisioned",
        f"extension {user.extension}",
        tenant.id,
    )
    db.session.commit()
    log.info("set-up link used for %s@%s from %s", user.extension, tenant.domain, request.remote_addr)
    return Response(body, mimetype="application/xml", headers={"Cache-Control": "no-store"})


@bp.post("/users/<int:user_id>/setup-link")
@admin_required
def setup_link(user_id: int):
    """A fresh set-up link with its QR code for this user's softphone (the old unused one ends)."""
    user = tenant_object(models.User, user_id)
    link = new_setup_link(user, actor())
    audit(actor(), "user.setup_link", f"extension {user.extension}", g.tenant.id)
    db.session.commit()
    return render_template("users/setup_link.html", user=user, setup_link=link, qr=qr_svg(link))


def _welcome(user: models.User, tenant: models.Tenant, to: str, link: str, sender: str) -> EmailMessage:
    login = db.session.query(models.PanelAccount).filter_by(user_id=user.id).first()
    server = get_setting("sip_server") or tenant.domain
    port = get_setting("sip_port")
    message = EmailMessage()
    message["Subject"] = (
        f"【kumo】{tenant.name} 内線 {user.extension} のご案内 / Your extension {user.extension}"
    )
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "kumo.invalid")
    sign_in_ja = (
        f"コントロール画面（{base_url()}/login）に {login.email} でサインインすると、おやすみモード、転送、留守番電話を設定できます。\n"
        if login is not None
        else ""
    )
    sign_in_en = (
        f"Sign in to the panel ({base_url()}/login) as {login.email} for do not disturb, forwarding and voicemail.\n"
        if login is not None
        else ""
    )
    message.set_content(
        f"{user.name} 様\n\n{tenant.name} の内線 {user.extension} をご用意しました。\n\n"
        "スマートフォンやパソコンの Linphone では、アシスタントの「リモート設定を取得」でこのリンクを開くか、"
        f"リンクをスマートフォンで開くと設定が完了します（1回限り、{MAILED_LINK_LIFETIME.days}日間有効）:\n{link}\n\n"
        f"ほかの電話機では次の値を設定してください（パスワードは管理者にお尋ねください）:\n"
        f"  ユーザー名 / 認証ID: {user.extension}\n  ドメイン: {tenant.domain}\n  サーバー: {server}:{port}\n\n"
        f"{sign_in_ja}\n"
        f"Your extension {user.extension} at {tenant.name} is ready.\n"
        f"Linphone (phone or PC): open this link, or use “Fetch remote configuration” in its assistant "
        f"(works once, for {MAILED_LINK_LIFETIME.days} days):\n{link}\n"
        f"Other phones: user name / auth ID {user.extension}, domain {tenant.domain}, server {server}:{port}; "
        "ask your administrator for the password.\n"
        f"{sign_in_en}"
    )
    return message


@bp.post("/users/<int:user_id>/welcome")
@admin_required
def welcome(user_id: int):
    """A welcome e-mail with a week-long set-up link (the old unused one ends)."""
    user = tenant_object(models.User, user_id)
    to = request.form.get("email", "").strip()
    if "@" not in to or len(to) > 254 or any(c in to for c in "\r\n,;<> "):
        flash(gettext("Enter a valid e-mail address."), "error")
        return redirect(url_for("users.edit", user_id=user_id))
    smtp = smtp_settings()
    if not smtp.enabled:
        flash(gettext("No mail server is set up (FSCTL_SMTP_HOST): the e-mail was not sent."), "error")
        return redirect(url_for("users.edit", user_id=user_id))
    link = new_setup_link(user, actor(), MAILED_LINK_LIFETIME)
    try:
        send(_welcome(user, g.tenant, to, link, smtp.sender), smtp)
    except OSError as exc:  # smtplib's errors are OSErrors
        db.session.rollback()
        log.error("welcome e-mail for %s to %s failed: %s", user.extension, to, exc)
        flash(gettext("The e-mail could not be sent. Try again later."), "error")
        return redirect(url_for("users.edit", user_id=user_id))
    audit(actor(), "user.welcome_mail", f"extension {user.extension} to {to}", g.tenant.id)
    db.session.commit()
    flash(gettext("A welcome e-mail with a set-up link was sent to %(email)s.", email=to), "ok")
    return redirect(url_for("users.edit", user_id=user_id))
