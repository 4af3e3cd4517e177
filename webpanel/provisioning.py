"""SIP credentials for a new extension: a strong password, the settings a phone needs, a QR code."""

from __future__ import annotations

import io
import json
import secrets
import string

import qrcode
import qrcode.image.svg
from markupsafe import Markup

from webpanel.platform import get_setting

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


def qr_svg(settings: dict[str, str]) -> Markup:
    """An inline SVG QR code with the account as JSON (apps that read a QR code import it)."""
    payload = json.dumps(
        {k: settings[k] for k in ("username", "password", "domain", "server", "port")}, separators=(",", ":")
    )
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration so the SVG can sit inside the HTML page.
    return Markup(svg[svg.index("<svg") :])
