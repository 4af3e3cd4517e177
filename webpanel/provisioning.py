"""SIP credentials for a new extension: a strong password, the settings a phone needs, a QR code;
and phone set-up links a softphone reads by itself.

A set-up link serves the account in Linphone's remote-provisioning format (an XML "lpconfig"
document: sections proxy_0 and auth_info_0), which Linphone reads on Android, iOS and desktop
("Fetch remote configuration" / scan a QR code in its assistant). It carries the digest HA1 kumo
stores (md5(extension:domain:password), the same value Linphone's `ha1` entry takes), never the
password, so a link can be made at any time without a new password. Because the HA1 is as good as
the password for this domain, a link works once and for a day (LINK_LIFETIME; a week when mailed),
and `transient_provisioning` tells Linphone to apply it once instead of fetching it at every start.
Other softphones and desk phones are set up by hand from the settings on the credentials page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string

from lxml import etree
from sqlalchemy import select, update

from fsctl import models
from webpanel.extensions import db
from webpanel.platform import base_url, get_setting

# No look-alikes (0/O, 1/l/I): people type these into desk phones by hand.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def generate_sip_password(length: int = 20) -> str:
    """A random SIP password (about 117 bits) with letters and digits, never all digits."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def phone_settings(domain: str, extension: str, password: str) -> dict[str, str]:
    """What a softphone or desk phone asks for."""
    server = get_setting("sip_server") or domain
    return {
        "username": extension,
        "auth_username": extension,
        "password": password,
        "domain": domain,
        "server": server,
        "port": get_setting("sip_port"),
        "tls_port": get_setting("sip_tls_port"),
        "transport": "UDP / TCP / TLS",
    }


LINK_LIFETIME = dt.timedelta(days=1)
MAILED_LINK_LIFETIME = dt.timedelta(days=7)
LPCONFIG = "http://www.linphone.org/xsds/lpconfig.xsd"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_setup_link(user: models.User, actor: str, lifetime: dt.timedelta = LINK_LIFETIME) -> str:
    """A fresh single-use set-up link for `user` (its URL); the user's unused links end. Caller commits."""
    now = dt.datetime.now(dt.UTC)
    db.session.execute(
        update(models.ProvisioningLink)
        .where(models.ProvisioningLink.user_id == user.id, models.ProvisioningLink.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        models.ProvisioningLink(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            created_by=actor[:120],
            expires_at=now + lifetime,
        )
    )
    return f"{base_url()}/provision/{token}"


def take_setup_link(token: str) -> models.User | None:
    """The user of a valid, unused link, which is used up by this; None otherwise. Caller commits."""
    now = dt.datetime.now(dt.UTC)
    link = db.session.scalar(
        select(models.ProvisioningLink)
        .where(models.ProvisioningLink.token_hash == _token_hash(token))
        .with_for_update()
    )
    if link is None or link.used_at is not None:
        return None
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=dt.UTC)
    if expires <= now:
        return None
    link.used_at = now
    return db.session.get(models.User, link.user_id)


def _section(root: etree._Element, name: str, entries: dict[str, str]) -> None:
    section = etree.SubElement(root, f"{{{LPCONFIG}}}section", name=name)
    for key, value in entries.items():
        entry = etree.SubElement(section, f"{{{LPCONFIG}}}entry", name=key, overwrite="true")
        entry.text = value


def linphone_config(tenant: models.Tenant, user: models.User) -> bytes:
    """The account as Linphone's remote-provisioning XML (lxml escapes every value)."""
    server = get_setting("sip_server") or tenant.domain
    port = get_setting("sip_port") or "5060"
    display = user.name.replace('"', "'")
    root = etree.Element(f"{{{LPCONFIG}}}config", nsmap={None: LPCONFIG})
    _section(root, "misc", {"transient_provisioning": "1"})
    _section(root, "sip", {"default_proxy": "0"})
    _section(
        root,
        "proxy_0",
        {
            "reg_proxy": f"<sip:{server}:{port};transport=udp>",
            "reg_identity": f'"{display}" <sip:{user.extension}@{tenant.domain}>',
            "reg_expires": "3600",
            "reg_sendregister": "1",
            "realm": tenant.domain,
        },
    )
    _section(
        root,
        "auth_info_0",
        {
            "username": user.extension,
            "userid": user.extension,
            "ha1": user.a1_hash,
            "realm": tenant.domain,
            "domain": tenant.domain,
            "algorithm": "MD5",
        },
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
