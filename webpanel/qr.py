"""QR codes as inline SVG (no image files, nothing a CSP without inline scripts would block)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(text: str, box_size: int = 8) -> Markup:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration so the SVG can sit inside the HTML page.
    return Markup(svg[svg.index("<svg") :])
