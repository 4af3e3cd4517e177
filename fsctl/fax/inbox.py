"""A tenant's received faxes as the panel and the API show them: always scoped by the tenant, so
another tenant's fax is never found (the caller answers 404), and deleting one removes its PDF."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

log = logging.getLogger(__name__)

LIST_LIMIT = 500


def tenant_faxes(session: Session, tenant_id: int, limit: int = LIST_LIMIT) -> list[models.FaxMessage]:
    """The tenant's faxes, newest first."""
    query = (
        select(models.FaxMessage)
        .where(models.FaxMessage.tenant_id == tenant_id)
        .order_by(models.FaxMessage.received_at.desc(), models.FaxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def tenant_fax(session: Session, tenant_id: int, fax_id: int) -> models.FaxMessage | None:
    """One fax of the tenant; None for an unknown id or another tenant's fax."""
    fax = session.get(models.FaxMessage, fax_id)
    return fax if fax is not None and fax.tenant_id == tenant_id else None


def fax_pdf(fax: models.FaxMessage) -> Path | None:
    """The fax's PDF when it exists (a failed fax with no page has none)."""
    if not fax.pdf_path:
        return None
    path = Path(fax.pdf_path)
    return path if path.is_file() else None


def delete_fax(session: Session, fax: models.FaxMessage) -> None:
    """Remove the fax: its row, its PDF and a TIFF kept because it could not be read."""
    for name in (fax.pdf_path, fax.tiff_path):
        if name:
            try:
                Path(name).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("fax %s: %s not removed (%s)", fax.id, name, exc)
    session.delete(fax)


def fax_summary(fax: models.FaxMessage) -> dict:
    """A fax as the API returns it."""
    return {
        "id": fax.id,
        "received_at": fax.received_at.isoformat(),
        "number": fax.number,
        "sender": fax.sender,
        "remote_station_id": fax.remote_station_id,
        "pages": fax.pages,
        "success": fax.success,
        "result_code": fax.result_code,
        "result_text": fax.result_text,
        "t38": fax.t38,
        "pdf": bool(fax.pdf_path),
        "mailed_to": fax.mailed_to.split(),
        "mailed_at": fax.mailed_at.isoformat() if fax.mailed_at else None,
        "mail_error": fax.mail_error,
    }


def purge_faxes(session: Session, default_days: int, now: dt.datetime, domain: str | None = None) -> int:
    """Delete faxes (rows and files) older than the tenant's recordings' retention (recording_retention,
    else `default_days`): a fax is kept exactly as long as the tenant's call recordings."""
    query = select(models.Tenant.id)
    if domain is not None:
        query = query.where(models.Tenant.domain == domain.lower())
    purged = 0
    for tenant_id in session.scalars(query).all():
        retention = session.get(models.RecordingRetention, tenant_id)
        cutoff = now - dt.timedelta(days=retention.days if retention else default_days)
        old = select(models.FaxMessage).where(
            models.FaxMessage.tenant_id == tenant_id, models.FaxMessage.received_at < cutoff
        )
        for fax in session.scalars(old).all():
            delete_fax(session, fax)
            purged += 1
    return purged
