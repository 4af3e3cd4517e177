"""Panel accounts that the command line also manages (`fsctl operator create EMAIL`).

The hashing lives here, not in webpanel, because fsctl never imports the panel; the panel uses these.
"""

from __future__ import annotations

import datetime as dt
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with argon2-cffi's current defaults (RFC 9106 low-memory profile)


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use cheaper parameters; verification still reads them from the hash)."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    """An argon2id hash of a panel password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong password or a damaged hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new panel password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if password.isdigit() or password.isalpha():
        return "must mix letters with digits or symbols"
    return None


def create_operator(session: Session, email: str, password: str, actor: str = "fsctl") -> models.PanelAccount:
    """Create a platform operator account; ValueError when the e-mail is taken or the password weak."""
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an e-mail address")
    if problem := password_problem(password):
        raise ValueError(f"password {problem}")
    if session.scalar(select(models.PanelAccount.id).where(models.PanelAccount.email == email)):
        raise ValueError(f"an account {email} already exists")
    account = models.PanelAccount(
        email=email,
        password_hash=hash_password(password),
        role=models.AccountRole.OPERATOR,
        display_name=email.split("@")[0],
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(account)
    session.add(models.AuditEntry(actor=actor, action="operator.create", detail=email))
    log.info("operator account %s created", email)
    return account
