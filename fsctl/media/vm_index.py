"""Voicemail messages indexed from mod_voicemail's events, and the e-mail of new ones.

mod_voicemail fires CUSTOM `vm::maintenance` events (mod_voicemail.c): `VM-Action: leave-message`
when a message is stored (deliver_vm: VM-User, VM-Domain, VM-Caller-ID-*, VM-File-Path, VM-Folder,
VM-UUID, VM-Message-Len seconds, VM-Timestamp epoch) and `mwi-update` with the mailbox totals
(VM-Total-New, VM-Total-Saved) whenever they change. There is no per-message event when a message is
listened to, so "saved" is derived from the totals: the switch plays the oldest new message first
(play-new-messages-lifo false), hence all but the newest VM-Total-New messages have been heard.

Message-waiting is the switch's own work: after leave-message it fires MESSAGE_WAITING
(`MWI-Message-Account: 1002@acme.example`, `MWI-Voice-Message: 1/0`) and sofia NOTIFYs the phones
subscribed to that account; on REGISTER it answers MESSAGE_QUERY the same way (fixtures:
esl/inbound-*-voicemail.log.gz, inbound-*-register.log). kumo does not send MWI itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.mail import send
from fsctl.media import vm_mail
from fsctl.media.settings import MediaSettings, inside

log = logging.getLogger(__name__)

Sender = Callable[[vm_mail.NewMessageMail], None]


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


class VoicemailEventHandler:
    """Feed it every event (`handle(headers)`); it keeps voicemail_messages and sends the e-mails."""

    def __init__(
        self, session_factory: sessionmaker[Session], settings: MediaSettings, sender: Sender | None = None
    ):
        self.session_factory = session_factory
        self.settings = settings
        self.sender = sender if sender is not None else self._smtp_send

    def handle(self, event_headers: Mapping[str, str]) -> None:
        """Process one event's headers (plain or json, already decoded); others are ignored."""
        if event_headers.get("Event-Subclass") != "vm::maintenance":
            return
        action = event_headers.get("VM-Action")
        try:
            if action == "leave-message":
                self.leave_message(event_headers)
            elif action == "mwi-update":
                self.mwi_update(event_headers)
        except Exception:  # noqa: BLE001 - one bad event must not stop the event loop
            log.exception(
                "voicemail event %s for %s@%s not processed",
                action,
                event_headers.get("VM-User"),
                event_headers.get("VM-Domain"),
            )

    def leave_message(self, h: Mapping[str, str]) -> None:
        domain, mailbox, path = (
            h.get("VM-Domain", "").lower(),
            h.get("VM-User", ""),
            h.get("VM-File-Path", ""),
        )
        mail: vm_mail.NewMessageMail | None = None
        with self.session_factory() as session:
            # The tenant's id and whether the message is known, in one query of two columns (loading
            # the Tenant object cost most of an event's handling; mail_for loads it when needed).
            vm = models.VoicemailMessage
            found = session.execute(
                select(models.Tenant.id, vm.id)
                .outerjoin(vm, and_(vm.tenant_id == models.Tenant.id, vm.file_path == path))
                .where(models.Tenant.domain == domain)
                .limit(1)
            ).first()
            if found is None or not path:
                log.warning("voicemail for %s@%s: no such tenant; not indexed", mailbox, domain)
                return
            tenant_id, known = found
            if known is not None:
                return  # the same event seen twice (reconnect replay)
            epoch = _int(h.get("VM-Timestamp")) or int(dt.datetime.now(dt.UTC).timestamp())
            message = models.VoicemailMessage(
                tenant_id=tenant_id,
                mailbox=mailbox,
                file_path=path,
                caller_number=h.get("VM-Caller-ID-Number", "")[:64],
                caller_name=h.get("VM-Caller-ID-Name", "")[:100],
                received_at=dt.datetime.fromtimestamp(epoch, dt.UTC),
                duration_seconds=_int(h.get("VM-Message-Len")),
                call_uuid=h.get("Unique-ID") or None,
                folder="new",
            )
            session.add(message)
            mail = self.mail_for(session, tenant_id, message)
            session.commit()
            message_id = message.id
        log.info(
            "voicemail for %s@%s from %s indexed (%s)", mailbox, domain, h.get("VM-Caller-ID-Number"), path
        )
        if mail is not None:
            self._mail(mail, message_id)

    def mail_for(
        self, session: Session, tenant: models.Tenant | int, message: models.VoicemailMessage
    ) -> vm_mail.NewMessageMail | None:
        """The e-mail for a message, when its mailbox's user gave an address (opt-in)."""
        tenant_id = tenant if isinstance(tenant, int) else tenant.id
        user = session.scalar(
            select(models.User).where(
                models.User.tenant_id == tenant_id, models.User.extension == message.mailbox
            )
        )
        if user is None or not user.voicemail_email:
            return None
        if isinstance(tenant, int):
            tenant = session.get(models.Tenant, tenant)
        return vm_mail.NewMessageMail(
            to=user.voicemail_email,
            tenant_name=tenant.name,
            domain=tenant.domain,
            mailbox=message.mailbox,
            mailbox_name=user.name,
            caller_number=message.caller_number,
            caller_name=message.caller_name,
            received_at=message.received_at,
            timezone=tenant.timezone,
            duration_seconds=message.duration_seconds,
            audio=self.audio_path(tenant.domain, message.file_path) if user.voicemail_attach_audio else None,
        )

    def mail_pending(
        self,
        now: dt.datetime,
        within: dt.timedelta = dt.timedelta(days=1),
        settle: dt.timedelta = dt.timedelta(0),
    ) -> int:
        """Send the e-mails that failed (SMTP down) for messages of the last `within`; returns how many went.

        `settle`: only messages older than that, whose first e-mail (sent as the message is indexed)
        has had its chance, so a periodic retry never mails a message twice."""
        with self.session_factory() as session:
            rows = session.execute(
                select(models.VoicemailMessage, models.Tenant)
                .join(models.Tenant)
                .where(
                    models.VoicemailMessage.emailed_at.is_(None),
                    models.VoicemailMessage.received_at >= now - within,
                    models.VoicemailMessage.received_at <= now - settle,
                )
                .order_by(models.VoicemailMessage.received_at)
            ).all()
            pending = [(m.id, mail) for m, t in rows if (mail := self.mail_for(session, t, m)) is not None]
        sent = 0
        for message_id, mail in pending:
            sent += self._mail(mail, message_id)
        return sent

    def audio_path(self, domain: str, path: str) -> Path | None:
        """The message file, only when it lies inside this tenant's own voicemail tree."""
        if self.settings.voicemail_root and not inside(Path(self.settings.voicemail_root) / domain, path):
            log.warning("voicemail file %s is outside %s's tree; not attached", path, domain)
            return None
        return Path(path)

    def _mail(self, mail: vm_mail.NewMessageMail, message_id: int) -> bool:
        try:
            self.sender(mail)
        except Exception:  # noqa: BLE001 - SMTP trouble is logged; the message stays indexed, retried later
            log.exception("voicemail e-mail to %s failed", mail.to)
            return False
        with self.session_factory() as session:
            session.execute(
                update(models.VoicemailMessage)
                .where(models.VoicemailMessage.id == message_id)
                .values(emailed_at=dt.datetime.now(dt.UTC))
            )
            session.commit()
        return True

    def _smtp_send(self, mail: vm_mail.NewMessageMail) -> None:
        if not self.settings.smtp.enabled:
            log.info("voicemail e-mail to %s not sent: FSCTL_SMTP_HOST is not set", mail.to)
            raise RuntimeError("no SMTP server configured")
        send(vm_mail.compose(mail, self.settings.smtp.sender), self.settings.smtp)

    def mwi_update(self, h: Mapping[str, str]) -> None:
        domain, mailbox = h.get("VM-Domain", "").lower(), h.get("VM-User", "")
        total_new = _int(h.get("VM-Total-New")) + _int(h.get("VM-Total-New-Urgent"))
        with self.session_factory() as session:
            tenant_id = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
            if tenant_id is None:
                return
            rows = session.scalars(
                select(models.VoicemailMessage)
                .where(
                    models.VoicemailMessage.tenant_id == tenant_id, models.VoicemailMessage.mailbox == mailbox
                )
                .order_by(models.VoicemailMessage.received_at.desc(), models.VoicemailMessage.id.desc())
            ).all()
            for index, row in enumerate(rows):
                if row.folder == "new" and index >= total_new:
                    row.folder = "saved"
            session.commit()


def list_messages(session: Session, domain: str, mailbox: str | None = None) -> list[models.VoicemailMessage]:
    """A tenant's messages (one mailbox or all), newest first; the panel's listing."""
    query = (
        select(models.VoicemailMessage)
        .join(models.Tenant)
        .where(models.Tenant.domain == domain.lower())
        .order_by(models.VoicemailMessage.received_at.desc())
    )
    if mailbox is not None:
        query = query.where(models.VoicemailMessage.mailbox == mailbox)
    return list(session.scalars(query))
