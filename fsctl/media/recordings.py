"""Call recordings: index from RECORD_STOP, per-tenant storage that is never crossed, retention purge.

Layout: <recordings_root>/<tenant domain>/<yyyy>/<mm>/<dd>/<call uuid>[-<ext>].wav (fsctl.routing.recording
writes the path into the dialplan). A RECORD_STOP is ours when the channel carries `kumo_record_user`
(set with the recording) and its Record-File-Path lies in a tenant's tree of that layout; mod_voicemail's
own RECORD_STOP events (fixtures esl/inbound-*-voicemail.log.gz) carry neither and are ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.media.settings import MediaSettings, inside

log = logging.getLogger(__name__)

_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
_LAYOUT = re.compile(
    r"^(?P<domain>[a-z0-9.-]+)/(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})/[A-Za-z0-9-]{8,80}\.wav$"
)


class StorageError(ValueError):
    """A path that would leave the tenant's own storage."""


def tenant_root(root: str | Path, domain: str) -> Path:
    """<root>/<domain>, refusing anything that is not a plain domain name."""
    if not _DOMAIN.match(domain) or ".." in domain:
        raise StorageError(f"not a tenant domain: {domain!r}")
    return Path(root) / domain


def tenant_file(root: str | Path, domain: str, path: str | Path) -> Path:
    """`path` (absolute, or relative to the tenant's root) if it lies inside that tenant's tree."""
    base = tenant_root(root, domain)
    candidate = Path(path) if Path(path).is_absolute() else base / path
    if not inside(base, candidate):
        raise StorageError(f"{path} is outside {domain}'s storage")
    return candidate.resolve()


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


class RecordingEventHandler:
    """Feed it every event (`handle(headers)`); RECORD_STOP of kumo's recordings become call_recordings rows."""

    def __init__(self, session_factory: sessionmaker[Session], settings: MediaSettings):
        self.session_factory = session_factory
        self.settings = settings

    def handle(self, event_headers: Mapping[str, str]) -> None:
        if event_headers.get("Event-Name") != "RECORD_STOP" or not event_headers.get(
            "variable_kumo_record_user"
        ):
            return
        try:
            self.record_stop(event_headers)
        except Exception:  # noqa: BLE001 - one bad event must not stop the event loop
            log.exception("RECORD_STOP %s not indexed", event_headers.get("Record-File-Path"))

    def record_stop(self, h: Mapping[str, str]) -> None:
        path = h.get("Record-File-Path", "")
        root = Path(self.settings.recordings_root)
        try:
            relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            log.warning("recording %s is outside %s; not indexed", path, root)
            return
        match = _LAYOUT.match(relative)
        if match is None:
            log.warning("recording %s does not follow the layout; not indexed", path)
            return
        domain = match["domain"]
        tenant_file(root, domain, path)  # raises when a symlink or name leads elsewhere
        seconds = _int(h.get("variable_record_seconds")) or _int(h.get("variable_record_ms")) // 1000
        size = _int(h.get("variable_record_file_size"))
        if size == 0 and Path(path).exists():
            size = Path(path).stat().st_size
        if size == 0 and seconds == 0:
            # RECORD_BRIDGE_REQ: a call that was never bridged stops a recording that never started.
            log.info("recording %s: nothing was recorded; not indexed", path)
            return
        stopped = dt.datetime.fromtimestamp(_int(h.get("Event-Date-Timestamp")) / 1e6, dt.UTC)
        with self.session_factory() as session:
            tenant_id = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
            if tenant_id is None:
                log.warning("recording %s: no tenant %s; not indexed", path, domain)
                return
            exists = session.scalar(
                select(models.CallRecording.id).where(
                    models.CallRecording.tenant_id == tenant_id, models.CallRecording.file_path == path
                )
            )
            if exists:
                return
            session.add(
                models.CallRecording(
                    tenant_id=tenant_id,
                    call_uuid=h.get("Unique-ID", ""),
                    file_path=path,
                    file_size=size,
                    user_extension=h.get("variable_kumo_record_user", "")[:6] or None,
                    direction=h.get("variable_kumo_record_direction", h.get("Call-Direction", ""))[:16],
                    caller=h.get("Caller-Caller-ID-Number", "")[:64],
                    callee=(h.get("Caller-Callee-ID-Number") or h.get("Caller-Destination-Number", ""))[:64],
                    started_at=stopped - dt.timedelta(seconds=seconds),
                    duration_seconds=seconds,
                )
            )
            session.commit()
        log.info("recording %s indexed (%s s, %s bytes)", path, seconds, size)


@dataclass
class PurgeResult:
    rows: int = 0
    files: int = 0


def set_retention(session: Session, domain: str, days: int) -> None:
    """Keep `domain`'s recordings for `days` days."""
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
    if tenant is None:
        raise LookupError(f"no tenant {domain}")
    if not 1 <= days <= 3650:
        raise ValueError("retention must be between 1 and 3650 days")
    row = session.get(models.RecordingRetention, tenant.id)
    if row is None:
        session.add(models.RecordingRetention(tenant_id=tenant.id, days=days))
    else:
        row.days = days


def purge(
    session: Session, settings: MediaSettings, now: dt.datetime, domain: str | None = None
) -> PurgeResult:
    """Delete recordings (rows and files) older than each tenant's retention; stray old files too."""
    result = PurgeResult()
    query = select(models.Tenant.id, models.Tenant.domain)
    if domain is not None:
        query = query.where(models.Tenant.domain == domain.lower())
    for tenant_id, tenant_domain in session.execute(query).all():
        retention = session.get(models.RecordingRetention, tenant_id)
        cutoff = now - dt.timedelta(days=retention.days if retention else settings.default_retention_days)
        old = session.scalars(
            select(models.CallRecording).where(
                models.CallRecording.tenant_id == tenant_id, models.CallRecording.started_at < cutoff
            )
        ).all()
        for row in old:
            try:
                target = tenant_file(settings.recordings_root, tenant_domain, row.file_path)
            except StorageError:
                log.warning(
                    "recording row %s points outside %s's storage; file left alone", row.id, tenant_domain
                )
            else:
                if target.exists():
                    target.unlink()
                    result.files += 1
        result.rows += (
            session.execute(
                delete(models.CallRecording).where(models.CallRecording.id.in_([r.id for r in old]))
            ).rowcount
            or 0
        )
        base = tenant_root(settings.recordings_root, tenant_domain)
        if base.is_dir():
            for stray in base.glob("*/*/*/*.wav"):
                if dt.datetime.fromtimestamp(stray.stat().st_mtime, dt.UTC) < cutoff and inside(base, stray):
                    stray.unlink()
                    result.files += 1
    return result


def recording_file(session: Session, settings: MediaSettings, domain: str, recording_id: int) -> Path:
    """The file of one of `domain`'s recordings (for the panel's download); LookupError otherwise.

    The row is looked up within the tenant and its path re-checked against the tenant's tree, so an id
    or a row of another tenant never yields a file."""
    row = session.scalar(
        select(models.CallRecording)
        .join(models.Tenant)
        .where(models.Tenant.domain == domain.lower(), models.CallRecording.id == recording_id)
    )
    if row is None:
        raise LookupError(f"no recording {recording_id} for {domain}")
    try:
        return tenant_file(settings.recordings_root, domain.lower(), row.file_path)
    except StorageError as exc:
        raise LookupError(str(exc)) from exc
