"""A received fax (the TIFF mod_spandsp wrote) as a PDF: one PDF page per fax page, at its true size.

Pillow decodes the fax TIFF (T.4/T.6, Group 3/4, through its bundled libtiff) and reportlab (already
kumo's PDF library, for invoices) writes the PDF. Chosen over Debian's tiff2pdf so no system package
and no subprocess is needed. Fax pixels are not square (standard resolution is 204 x 98 dpi, fine
204 x 196): each page's size comes from its own x and y resolution, so an A4 fax stays A4.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageSequence
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

POINTS_PER_INCH = 72.0
# A TIFF without resolution tags: what a fax at standard resolution has.
DEFAULT_DPI = (204.0, 98.0)


class FaxImageError(ValueError):
    """The file is not a readable fax image (missing, truncated, not a TIFF)."""


def _dpi(page: Image.Image) -> tuple[float, float]:
    x, y = page.info.get("dpi") or DEFAULT_DPI
    return (float(x) or DEFAULT_DPI[0], float(y) or DEFAULT_DPI[1])


def tiff_to_pdf(tiff: Path, pdf: Path, title: str = "") -> int:
    """Write `pdf` (mode 0600, replaced atomically) from the fax `tiff`; returns its page count."""
    partial = pdf.with_name(pdf.name + ".part")
    try:
        with Image.open(tiff) as image:
            doc = canvas.Canvas(str(partial))
            doc.setTitle(title)
            pages = 0
            for page in ImageSequence.Iterator(image):
                x_dpi, y_dpi = _dpi(page)
                width = page.width / x_dpi * POINTS_PER_INCH
                height = page.height / y_dpi * POINTS_PER_INCH
                doc.setPageSize((width, height))
                doc.drawImage(ImageReader(page.convert("L")), 0, 0, width=width, height=height)
                doc.showPage()
                pages += 1
            if not pages:
                raise FaxImageError(f"{tiff.name} has no page")
            doc.save()
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        partial.unlink(missing_ok=True)
        raise FaxImageError(f"{tiff.name}: {exc}") from exc
    os.chmod(partial, 0o600)
    os.replace(partial, pdf)
    return pages
