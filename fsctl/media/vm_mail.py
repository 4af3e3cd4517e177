"""E-mail of a new voicemail with the audio attached (opt-in per user), sent by kumo itself (fsctl.mail)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

MAX_ATTACHMENT = 10 * 1024 * 1024  # bigger messages are announced without the audio


@dataclass(frozen=True)
class NewMessageMail:
    to: str
    tenant_name: str
    domain: str
    mailbox: str
    mailbox_name: str
    caller_number: str
    caller_name: str
    received_at: dt.datetime
    timezone: str
    duration_seconds: int
    audio: Path | None  # attached when set and readable


def compose(mail: NewMessageMail, sender: str) -> EmailMessage:
    """The message: Japanese first, then English; the WAV attached when given."""
    local = mail.received_at.astimezone(ZoneInfo(mail.timezone))
    caller = mail.caller_number or "非通知 / unknown"
    if mail.caller_name and mail.caller_name != mail.caller_number:
        caller = f"{mail.caller_name} <{caller}>"
    msg = EmailMessage()
    msg["Subject"] = f"新しい留守番電話 / New voicemail: {mail.caller_number or 'unknown'} → {mail.mailbox}"
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=mail.domain)
    when = local.strftime("%Y-%m-%d %H:%M")
    msg.set_content(
        f"{mail.tenant_name} 内線 {mail.mailbox} ({mail.mailbox_name}) に新しい留守番電話があります。\n"
        f"  発信者: {caller}\n  日時: {when} ({mail.timezone})\n  長さ: {mail.duration_seconds} 秒\n\n"
        f"New voicemail for extension {mail.mailbox} ({mail.mailbox_name}) of {mail.tenant_name}.\n"
        f"  From: {caller}\n  Received: {when} ({mail.timezone})\n  Length: {mail.duration_seconds} s\n",
        charset="utf-8",
    )
    if mail.audio is not None:
        try:
            data = mail.audio.read_bytes()
        except OSError as exc:
            log.warning("voicemail %s not attached: %s", mail.audio, exc)
        else:
            if len(data) <= MAX_ATTACHMENT:
                name = f"voicemail-{mail.mailbox}-{local.strftime('%Y%m%d-%H%M%S')}.wav"
                msg.add_attachment(data, maintype="audio", subtype="wav", filename=name)
            else:
                log.info("voicemail %s (%d bytes) too big to attach", mail.audio, len(data))
    return msg
