"""Fax test helpers: a fax document as mod_spandsp writes one, and a CDR leg of a fax call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PIL import Image, ImageDraw

from fsctl.cdr.parse import Leg, Profile

FAX_NUMBER = "0312345679"


def fax_tiff(path: Path, pages: int = 2, dpi: tuple[int, int] = (204, 196)) -> Path:
    """A bilevel A4-wide (1728 px) Group 4 TIFF of `pages` pages at fax resolution."""
    images = []
    for number in range(1, pages + 1):
        page = Image.new("1", (1728, 2200), 1)
        ImageDraw.Draw(page).text((200, 200), f"page {number}", fill=0)
        images.append(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], compression="group4", dpi=dpi)
    return path


def fax_leg(uuid: str = "fax-leg-1", **variables: str) -> Leg:
    """The receiving leg of a carrier call to the fax number, with the fax_* results given."""
    base = {"kumo_fax_number": FAX_NUMBER, "uuid": uuid}
    base.update(variables)
    when = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    return Leg(
        uuid=uuid,
        is_b_leg=False,
        variables=base,
        first=Profile("public", FAX_NUMBER, "+81355550101"),
        originator=None,
        started_at=when,
        answered_at=when,
        ended_at=when + dt.timedelta(seconds=40),
        duration=40,
        billsec=40,
        hangup_cause="NORMAL_CLEARING",
    )
