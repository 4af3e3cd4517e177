"""How kumo learns of a fax: the receiving leg's CDR (a follower of fsctl.cdr.store).

Why the CDR and not the spandsp::rxfaxresult event: mod_json_cdr retries a post kumo could not take
and then spools it to disk, where `fsctl cdr import-spool` finds it, so every fax call reaches kumo
even across a restart; an ESL event sent while kumo is reconnecting is simply lost. The CDR carries
every fax_* channel variable mod_spandsp set (fax_success, fax_result_code, fax_result_text,
fax_document_transferred_pages, fax_remote_station_id, fax_t38_status, fax_filename) and the
`kumo_fax_number` the plan set (fsctl.routing.fax).

Recording a fax is idempotent (key: the leg's uuid), so a re-posted or spooled CDR records it once.
The follower runs before the CDR itself is stored: if it fails, the post fails and the switch tries
again. The PDF is written at once; the mail is sent afterwards (`spawn`: a greenlet in the service)
so the switch's post does not wait on an SMTP server.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fsctl import mail as smtp_mail
from fsctl import models
from fsctl.cdr.parse import Leg
from fsctl.config import storage_dir
from fsctl.fax.config import split_emails
from fsctl.fax.mail import FaxMail, compose
from fsctl.fax.pdf import FaxImageError, tiff_to_pdf
from fsctl.numbers import NumberError, to_national
from fsctl.routing.fax import FAX_NUMBER_VAR

log = logging.getLogger(__name__)

DEFAULT_FAX_DIR = "/var/lib/kumo/fax"
NOT_MAILED_NO_SMTP = "SMTP is not configured (FSCTL_SMTP_HOST): stored, not mailed"
NOT_MAILED_NO_ADDRESS = "the fax number has no e-mail address: stored, not mailed"
# The start of the note of a fax whose mail the SMTP server did not take: mailed again later
# (FaxFollower.mail_pending, fsctl.mail_retry).
MAIL_FAILED = "not mailed: "


@dataclass(frozen=True)
class FaxSettings:
    # rxfax writes <fax_dir>/<domain>/<uuid>-<n>-<time>.tif; kumo writes the PDF beside it. The
    # switch's ${kumo_fax_dir} (freeswitch/vars.xml) must be the same directory.
    fax_dir: str = DEFAULT_FAX_DIR
    smtp: smtp_mail.SmtpSettings = smtp_mail.SmtpSettings()


def fax_settings_from_env(environ: dict[str, str] | None = None) -> FaxSettings:
    """FSCTL_FAX_DIR (else FSCTL_SHARED_STORAGE_DIR/fax) and the FSCTL_SMTP_* settings every mail of kumo uses."""
    env = os.environ if environ is None else environ
    return FaxSettings(
        fax_dir=storage_dir("FSCTL_FAX_DIR", DEFAULT_FAX_DIR, env),
        smtp=smtp_mail.smtp_settings_from_env(env, sender="fax@localhost"),
    )


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0


def _national(caller: str) -> str:
    try:
        return to_national(caller)
    except NumberError:
        return caller[:64]


def _tenant_tiff(settings: FaxSettings, domain: str, path: str) -> Path | None:
    """The TIFF the switch named, only when it lies in this tenant's fax directory (a path in a post
    is never trusted further than that)."""
    if not path:
        return None
    root = (Path(settings.fax_dir) / domain).resolve()
    candidate = Path(path).resolve()
    if not candidate.is_relative_to(root) or candidate.suffix != ".tif":
        log.warning("fax file %r is outside %s: ignored", path, root)
        return None
    return candidate


def _pdf_of(message: models.FaxMessage, tiff: Path | None, domain: str) -> None:
    """Make the PDF from what arrived (even part of a failed fax), then drop the TIFF: the PDF is the
    document kept; a TIFF that cannot be read is kept for the operator."""
    if tiff is None or not tiff.exists():
        return
    os.chmod(tiff, 0o600)  # written by the switch with its umask; kumo's files are private
    pdf = tiff.with_name(f"{message.call_uuid}.pdf")
    try:
        pages = tiff_to_pdf(tiff, pdf, title=f"FAX {message.sender} → {message.number}")
    except FaxImageError as exc:
        log.warning("fax %s of %s: no PDF (%s); the TIFF is kept", message.call_uuid, domain, exc)
        message.tiff_path = str(tiff)
        return
    message.pdf_path, message.pdf_size = str(pdf), pdf.stat().st_size
    message.pages = max(message.pages, pages) if message.success else pages
    tiff.unlink(missing_ok=True)


class FaxFollower:
    """Called with each CDR leg of a known tenant; records the legs that received (or failed) a fax."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: FaxSettings,
        spawn: Callable[..., object] | None = None,
    ):
        self.session_factory = session_factory
        self.settings = settings
        self.spawn = spawn or (lambda function, *args: function(*args))

    def __call__(self, leg: Leg, tenant_id: int) -> None:
        number = leg.variables.get(FAX_NUMBER_VAR)
        if not number or leg.is_b_leg:
            return
        message_id = self.record(leg, tenant_id, number)
        if message_id is not None:
            self.spawn(self.deliver, message_id)

    def record(self, leg: Leg, tenant_id: int, number: str) -> int | None:
        """The fax's row and its PDF; None when this leg was recorded before."""
        v = leg.variables
        with self.session_factory() as session, session.begin():
            known = select(models.FaxMessage.id).where(models.FaxMessage.call_uuid == leg.uuid)
            if session.scalar(known) is not None:
                return None
            tenant = session.get(models.Tenant, tenant_id)
            if tenant is None:
                return None
            success = v.get("fax_success") == "1"
            text = v.get("fax_result_text") or ("" if success else "no fax tone: nothing was received")
            message = models.FaxMessage(
                tenant_id=tenant_id,
                call_uuid=leg.uuid,
                number=number[:16],
                sender=_national(leg.first.caller) if leg.first.caller else "",
                remote_station_id=(v.get("fax_remote_station_id") or "").strip()[:64],
                pages=_int(v.get("fax_document_transferred_pages")),
                success=success,
                result_code=_int(v.get("fax_result_code")),
                result_text=text[:200],
                t38=v.get("fax_t38_status") == "negotiated",
                received_at=leg.ended_at or leg.started_at,
                mail_error="",
                mailed_to="",
            )
            _pdf_of(
                message, _tenant_tiff(self.settings, tenant.domain, v.get("fax_filename", "")), tenant.domain
            )
            session.add(message)
            session.flush()
            log.info(
                "fax %s to %s of %s: %s, %d page(s)",
                leg.uuid,
                number,
                tenant.domain,
                "received" if success else f"failed ({text})",
                message.pages,
            )
            return message.id

    def mail_pending(self, now: dt.datetime, within: dt.timedelta = dt.timedelta(days=1)) -> int:
        """Mail again the faxes of the last `within` whose mail failed (the SMTP server away or
        refusing); returns how many went. Faxes not mailed for want of SMTP settings or addresses
        keep their note: nothing to retry until someone changes those."""
        with self.session_factory() as session:
            pending = session.scalars(
                select(models.FaxMessage.id)
                .where(
                    models.FaxMessage.mailed_at.is_(None),
                    models.FaxMessage.mail_error.startswith(MAIL_FAILED),
                    models.FaxMessage.received_at >= now - within,
                )
                .order_by(models.FaxMessage.id)
            ).all()
        return sum(self.deliver(message_id) for message_id in pending)

    def deliver(self, message_id: int) -> bool:
        """Mail the fax's PDF to its number's addresses, or say on the fax why it was not mailed;
        True when it was mailed now."""
        with self.session_factory() as session, session.begin():
            message = session.get(models.FaxMessage, message_id)
            if message is None or message.mailed_at is not None:
                return False
            tenant = session.get(models.Tenant, message.tenant_id)
            row = session.scalar(
                select(models.FaxNumber).where(
                    models.FaxNumber.tenant_id == message.tenant_id, models.FaxNumber.number == message.number
                )
            )
            addresses = tuple(split_emails(row.emails)) if row is not None else ()
            if not self.settings.smtp.enabled:
                message.mail_error = NOT_MAILED_NO_SMTP
                return False
            if not addresses:
                message.mail_error = NOT_MAILED_NO_ADDRESS
                return False
            mail = FaxMail(
                to=addresses,
                tenant_name=tenant.name if tenant else "",
                number=message.number,
                sender=message.sender,
                remote_station_id=message.remote_station_id,
                pages=message.pages,
                success=message.success,
                result_text=message.result_text,
                received_at=message.received_at,
                timezone=tenant.timezone if tenant else "Asia/Tokyo",
                pdf=Path(message.pdf_path) if message.pdf_path else None,
            )
            try:
                smtp_mail.send(compose(mail, self.settings.smtp.sender), self.settings.smtp)
            except Exception as exc:  # any SMTP or network failure is the fax's note, not a crash
                log.warning("fax %s not mailed: %s", message.call_uuid, exc)
                message.mail_error = f"{MAIL_FAILED}{exc}"[:500]
                return False
            message.mailed_to = " ".join(addresses)[:1000]
            message.mailed_at = dt.datetime.now(dt.UTC)
            message.mail_error = ""
            return True
