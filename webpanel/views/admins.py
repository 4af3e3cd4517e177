"""Several administrators per tenant: list, add with a password, remove, and turn off a colleague's
two-step verification when they lost both their phone and their recovery codes.

An administrator removes another (after a confirmation), never themselves and never the last one,
so a company can always sign in. Each change is in the audit log; a removed account's sessions end.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select

from fsctl import models
from fsctl.accounts import hash_password, password_problem
from webpanel import two_factor
from webpanel.extensions import db
from webpanel.security import admin_required, end_sessions, tenant_object
from webpanel.tenantdoc import audit
from webpanel.views.common import actor, confirmation_page, confirmed

bp = Blueprint("admins", __name__, url_prefix="/administrators")


def _admins() -> list[models.PanelAccount]:
    return list(
        db.session.scalars(
            select(models.PanelAccount)
            .where(
                models.PanelAccount.tenant_id == g.tenant.id,
                models.PanelAccount.role == models.AccountRole.ADMIN,
            )
            .order_by(models.PanelAccount.email)
        )
    )


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        email = form.get("email", "").strip().lower()
        name = form.get("display_name", "").strip()
        password = form.get("password", "")
        if "@" not in email or len(email) > 254:
            errors["email"] = gettext("Enter a valid e-mail address.")
        elif db.session.scalar(select(models.PanelAccount.id).where(models.PanelAccount.email == email)):
            errors["email"] = gettext("An account with this e-mail address already exists.")
        if not 1 <= len(name) <= 100:
            errors["display_name"] = gettext("Please fill this in.")
        if problem := password_problem(password):
            errors["password"] = problem
        if not errors:
            db.session.add(
                models.PanelAccount(
                    email=email,
                    password_hash=hash_password(password),
                    role=models.AccountRole.ADMIN,
                    tenant_id=g.tenant.id,
                    display_name=name,
                )
            )
            audit(actor(), "admin.add", email, g.tenant.id)
            db.session.commit()
            flash(gettext("%(email)s can now sign in as an administrator.", email=email), "ok")
            return redirect(url_for("admins.index"))
    status = 422 if errors else 200
    return render_template("admins.html", admins=_admins(), errors=errors, form=form), status


@bp.post("/<int:account_id>/remove")
@admin_required
def remove(account_id: int):
    account = tenant_object(models.PanelAccount, account_id)
    if account.role != models.AccountRole.ADMIN:
        return redirect(url_for("admins.index"))
    count = db.session.scalar(
        select(func.count()).where(
            models.PanelAccount.tenant_id == g.tenant.id, models.PanelAccount.role == models.AccountRole.ADMIN
        )
    )
    if account.id == g.account.id or count <= 1:
        flash(gettext("You cannot remove yourself or the last administrator."), "error")
        return redirect(url_for("admins.index"))
    if not confirmed(request.form):
        return confirmation_page(
            gettext("Remove the administrator %(email)s?", email=account.email),
            [
                gettext(
                    "%(email)s can no longer sign in to this panel; open sessions end at once.",
                    email=account.email,
                )
            ],
            gettext("Remove the administrator"),
            url_for("admins.index"),
        )
    end_sessions(account)
    audit(actor(), "admin.remove", account.email, g.tenant.id)
    db.session.delete(account)
    db.session.commit()
    flash(gettext("Removed."), "ok")
    return redirect(url_for("admins.index"))


@bp.post("/<int:account_id>/two-step-off")
@admin_required
def two_step_off(account_id: int):
    """A colleague lost their phone and their recovery codes: another administrator of the same
    company turns the protection off (confirmed, audited; their sessions end). Nobody turns off
    their own this way: that takes the password and a code (My account)."""
    account = tenant_object(models.PanelAccount, account_id)
    if account.id == g.account.id or not account.totp_secret:
        return redirect(url_for("admins.index"))
    if not confirmed(request.form):
        return confirmation_page(
            gettext("Turn off two-step verification for %(email)s?", email=account.email),
            [
                gettext(
                    "%(email)s then signs in with the password alone until they set it up again; "
                    "open sessions end at once. Do this only when you know who asked.",
                    email=account.email,
                )
            ],
            gettext("Turn two-step verification off"),
            url_for("admins.index"),
        )
    two_factor.turn_off(account)
    end_sessions(account)
    audit(actor(), "admin.two_step_off", account.email, g.tenant.id)
    db.session.commit()
    flash(gettext("Two-step verification of %(email)s is off.", email=account.email), "ok")
    return redirect(url_for("admins.index"))
