"""Two-step verification for panel accounts: a TOTP app (RFC 6238) and one-time recovery codes.

Optional per account. The secret is made here, shown once as a QR code and as text for the app, and
stored only after the owner typed a code the app made from it (a secret nobody can answer must not
lock anyone out). Codes are 6 digits over 30-second steps; one step either side is accepted for clock
drift, and a step once accepted is refused afterwards (replay). Recovery codes replace a lost phone:
each works once, and only their SHA-256 is kept (they are random, 50 bits: no slow hash needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

from fsctl import models

ISSUER = "kumo"
RECOVERY_CODES = 8
# base32 without look-alikes is overkill here: the codes are printed in a monospace font in groups.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends and every authenticator app reads."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str, company: str = "") -> str:
    """The otpauth:// URI authenticator apps import from a QR code (issuer shown above the codes)."""
    label = f"{company} ({email})" if company else email
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def _normal(code: str) -> str:
    # People type codes with spaces or a hyphen (apps show "123 456"); full-width digits from a
    # Japanese IME are digits too.
    return "".join(c for c in code.translate(_FULL_WIDTH) if c.isalnum()).lower()


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def accepted_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The step `code` belongs to when it is right and newer than `last_step`; else None."""
    code = _normal(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step = int(now) // totp.interval
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def new_recovery_codes() -> list[str]:
    """RECOVERY_CODES codes like "k7mq-x2pd-h" (10 letters: 49 bits each), shown once."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def recovery_hashes(codes: list[str]) -> str:
    return " ".join(hashlib.sha256(_normal(c).encode()).hexdigest() for c in codes)


def use_recovery_code(account: models.PanelAccount, code: str) -> bool:
    """True, and the code is spent, when `code` is one of the account's unused recovery codes."""
    digest = hashlib.sha256(_normal(code).encode()).hexdigest()
    left = (account.totp_recovery or "").split()
    for stored in left:
        if hmac.compare_digest(stored, digest):
            left.remove(stored)
            account.totp_recovery = " ".join(left)
            return True
    return False


def verify(account: models.PanelAccount, code: str, now: float | None = None) -> bool:
    """A code from the app (remembered as used) or a recovery code (spent); the caller commits."""
    if not account.totp_secret:
        return False
    step = accepted_step(account.totp_secret, code, account.totp_last_step, now)
    if step is not None:
        account.totp_last_step = step
        return True
    return use_recovery_code(account, code)


def turn_on(account: models.PanelAccount, secret: str, step: int) -> list[str]:
    """Store the confirmed secret; the new recovery codes (to show once). The caller commits."""
    codes = new_recovery_codes()
    account.totp_secret = secret
    account.totp_last_step = step
    account.totp_recovery = recovery_hashes(codes)
    return codes


def turn_off(account: models.PanelAccount) -> None:
    account.totp_secret = None
    account.totp_last_step = None
    account.totp_recovery = ""


def recovery_codes_left(account: models.PanelAccount) -> int:
    return len((account.totp_recovery or "").split())
