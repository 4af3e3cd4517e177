"""Platform settings the operator maintains (stored in platform_settings)."""

from __future__ import annotations

from flask import current_app

from fsctl import models
from webpanel.extensions import db

DEFAULTS = {
    # New tenants get <slug>.<suffix> as their SIP domain.
    "sip_domain_suffix": "kumo.example",
    # What phones register to (host name of the SIP proxy / FreeSWITCH); empty = the tenant's domain.
    "sip_server": "",
    "sip_port": "5060",
    "sip_tls_port": "5061",
    # The operator's mail server for notices and invoices (used by later features).
    "smtp_host": "",
    "smtp_from": "",
    # Shown to a customer whose account is suspended or whose trial ended: how to reach the operator.
    "support_contact": "",
    # Where customers post the signed application form and their identity document (webpanel.application).
    "application_mail_to": "",
}


def get_setting(key: str) -> str:
    row = db.session.get(models.PlatformSetting, key)
    return row.value if row is not None and row.value else DEFAULTS.get(key, "")


def set_setting(key: str, value: str) -> None:
    row = db.session.get(models.PlatformSetting, key)
    if row is None:
        db.session.add(models.PlatformSetting(key=key, value=value))
    else:
        row.value = value


def base_url() -> str:
    """Where the panel is reached, for links in e-mails and QR codes: WEBPANEL_BASE_URL, never the
    request's Host header (a client chooses that one)."""
    base = current_app.config.get("WEBPANEL_BASE_URL") or f"http://{current_app.config['WEBPANEL_LISTEN']}"
    return base.rstrip("/")
