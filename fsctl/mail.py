"""Sending e-mail through the platform's SMTP server (FSCTL_SMTP_*): the one path every mail takes.

Voicemail notices (fsctl.media), spend alerts (fsctl.security), invoices (fsctl.billing) and the
panel's password-reset links compose their own messages and hand them here.
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

TRUE_WORDS = ("1", "true", "yes")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "voicemail@localhost"

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def smtp_settings_from_env(
    environ: Mapping[str, str] | None = None, sender: str = SmtpSettings.sender
) -> SmtpSettings:
    """FSCTL_SMTP_HOST, _PORT, _USER, _PASSWORD, _STARTTLS and _FROM (`sender` when unset)."""
    env = os.environ if environ is None else environ
    return SmtpSettings(
        host=env.get("FSCTL_SMTP_HOST") or "",
        port=int(env.get("FSCTL_SMTP_PORT") or "25"),
        user=env.get("FSCTL_SMTP_USER") or "",
        password=env.get("FSCTL_SMTP_PASSWORD") or "",
        starttls=(env.get("FSCTL_SMTP_STARTTLS") or "false").lower() in TRUE_WORDS,
        sender=env.get("FSCTL_SMTP_FROM") or sender,
    )


@contextmanager
def _connection(smtp: SmtpSettings, timeout: float) -> Iterator[smtplib.SMTP]:
    if not smtp.enabled:
        raise RuntimeError("FSCTL_SMTP_HOST is not set: no mail can be sent")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password)
        yield client


def send(message: EmailMessage, smtp: SmtpSettings, timeout: float = 20.0) -> None:
    """Deliver one message; raises on any failure (OSError / SMTPException, RuntimeError unset)."""
    with _connection(smtp, timeout) as client:
        client.send_message(message)


def send_each(
    messages: list[EmailMessage], smtp: SmtpSettings, timeout: float = 30.0
) -> list[tuple[int, str]]:
    """Deliver many on one connection; (index, reason) of each message the server refused.

    A refused recipient or message is that message's failure alone: the others are still sent. The
    connection itself failing raises (nothing more can be sent then).
    """
    if not messages:
        return []
    refused: list[tuple[int, str]] = []
    with _connection(smtp, timeout) as client:
        for index, message in enumerate(messages):
            try:
                client.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                refused.append((index, str(exc)))
    return refused
