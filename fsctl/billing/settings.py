"""Operator settings for invoices: issuer, registration number, SMTP, output folder (environment)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from fsctl.billing.prices import DEFAULT_PRICES
from fsctl.config import PROJECT_ROOT
from fsctl.mail import SmtpSettings, smtp_settings_from_env

# 適格請求書発行事業者の登録番号: "T" + 13 digits.
REGISTRATION_NUMBER = re.compile(r"^T[0-9]{13}$")
# The From of invoice mail when FSCTL_SMTP_FROM is not set.
INVOICE_SENDER = "billing@kumo.invalid"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",  # Debian fonts-ipafont-gothic
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


@dataclass(frozen=True)
class BillingSettings:
    prices_file: Path = DEFAULT_PRICES
    issuer_name: str = "kumo クラウドPBX"
    issuer_address: str = ""
    registration_number: str | None = None
    out_dir: Path = PROJECT_ROOT / "instance" / "invoices"
    smtp: SmtpSettings = field(default_factory=lambda: SmtpSettings(sender=INVOICE_SENDER))
    font_file: str | None = None

    def with_overrides(self, **changes: object) -> BillingSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def registration_error(self) -> str | None:
        """Why invoices cannot be issued with these settings, or None."""
        if not self.registration_number or not REGISTRATION_NUMBER.match(self.registration_number):
            return (
                "FSCTL_INVOICE_REGISTRATION_NUMBER must be the issuer's qualified-invoice registration "
                "number: T followed by 13 digits"
            )
        return None


def billing_settings_from_env(environ: dict[str, str] | None = None) -> BillingSettings:
    """Read the FSCTL_INVOICE_*, FSCTL_SMTP_* and FSCTL_BILLING_PRICES variables."""
    env = os.environ if environ is None else environ
    d = BillingSettings()
    return BillingSettings(
        prices_file=Path(env.get("FSCTL_BILLING_PRICES") or d.prices_file),
        issuer_name=env.get("FSCTL_INVOICE_ISSUER") or d.issuer_name,
        issuer_address=env.get("FSCTL_INVOICE_ADDRESS") or d.issuer_address,
        registration_number=env.get("FSCTL_INVOICE_REGISTRATION_NUMBER") or None,
        out_dir=Path(env.get("FSCTL_INVOICE_DIR") or d.out_dir),
        smtp=smtp_settings_from_env(env, sender=INVOICE_SENDER),
        font_file=env.get("FSCTL_INVOICE_FONT") or None,
    )


def find_font(settings: BillingSettings) -> str:
    """A TrueType CJK font file (fonts-ipafont); FileNotFoundError names the package to install."""
    for candidate in ((settings.font_file,) if settings.font_file else ()) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError(
        "no Japanese TrueType font: install Debian's fonts-ipafont (or set FSCTL_INVOICE_FONT)"
    )
