"""The e-mail of a received fax, the PDF attached (sent through fsctl.mail, the panel's SMTP settings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class FaxMail:
    to: tuple[str, ...]
    tenant_name: str
    number: str  # the tenant's fax number
    sender: str  # the caller's number ("" when withheld)
    remote_station_id: str
    pages: int
    success: bool
    result_text: str
    received_at: dt.datetime
    timezone: str
    pdf: Path | None  # attached when the fax had pages


def attachment_name(received_at: dt.datetime, timezone: str, sender: str) -> str:
    """fax-20261207-1830-0312345678.pdf: the tenant's local time, then who sent it."""
    local = received_at.astimezone(ZoneInfo(timezone))
    return f"fax-{local:%Y%m%d-%H%M}-{sender or 'unknown'}.pdf"


def compose(mail: FaxMail, sender_address: str) -> EmailMessage:
    """Japanese first, then English; the PDF attached."""
    local = mail.received_at.astimezone(ZoneInfo(mail.timezone))
    sender = mail.sender or "非通知 / withheld"
    outcome_ja = "受信しました" if mail.success else f"受信できませんでした ({mail.result_text})"
    outcome_en = "received" if mail.success else f"not received ({mail.result_text})"
    msg = EmailMessage()
    msg["Subject"] = f"FAX受信 / Fax received: {mail.sender or 'withheld'} → {mail.number} ({mail.pages} p.)"
    msg["From"] = sender_address
    msg["To"] = ", ".join(mail.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="kumo")
    station = f" ({mail.remote_station_id})" if mail.remote_station_id else ""
    msg.set_content(
        f"{mail.tenant_name} の {mail.number} にFAXが届きました。\n"
        f"送信元: {sender}{station}\n受信日時: {local:%Y-%m-%d %H:%M}\n枚数: {mail.pages}\n結果: {outcome_ja}\n\n"
        f"A fax came to {mail.number} ({mail.tenant_name}).\n"
        f"From: {sender}{station}\nReceived: {local:%Y-%m-%d %H:%M} ({mail.timezone})\n"
        f"Pages: {mail.pages}\nResult: {outcome_en}\n"
    )
    if mail.pdf is not None:
        name = attachment_name(mail.received_at, mail.timezone, mail.sender)
        msg.add_attachment(mail.pdf.read_bytes(), maintype="application", subtype="pdf", filename=name)
    return msg
