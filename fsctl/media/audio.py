"""Tenant audio uploads (greetings, announcements, IVR prompts): WAV or MP3 in, 8 and 16 kHz mono WAV out.

Stored as <audio_root>/<domain>/<rate>/<name>.wav for both rates plus <audio_root>/<domain>/<name>.wav
(the 8 kHz file): mod_sndfile opens `<dir>/<rate>/<file>` for the call's rate and falls back to the
plain name (sndfile_file_open in mod_sndfile.c). The dialplan refers to `${kumo_audio_dir}/<domain>/<name>.wav`
(fsctl.routing.audio). The panel calls `store_upload`; the CLI is `fsctl audio upload DOMAIN FILE NAME`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.media.quota import megabytes as quota_mb
from fsctl.media.quota import needed_bytes, quota_for, stored_bytes
from fsctl.media.recordings import StorageError, tenant_root
from fsctl.media.settings import MediaSettings
from fsctl.media.sox import RATES, ConversionFailed, duration_seconds, to_switch_wav
from fsctl.routing.hold import HOLD_MUSIC_AUDIO

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AudioError(ValueError):
    """An upload refused; the message is meant for the person who uploaded it."""


class QuotaExceeded(AudioError):
    """An upload that would not fit in the tenant's storage quota (sizes in bytes)."""

    def __init__(self, used: int, quota: int, needed: int) -> None:
        self.used, self.quota, self.needed = used, quota, needed
        super().__init__(
            f"not enough storage: {quota_mb(used)} MB of {quota_mb(quota)} MB used, this file needs "
            f"{quota_mb(needed)} MB (delete an upload, or ask for a larger plan)"
        )


@dataclass(frozen=True)
class StoredAudio:
    name: str
    duration_ms: int
    paths: tuple[Path, ...]


def audio_name(name: str) -> str:
    """The stored name ("Main Menu.wav" is refused; "main-menu.wav" -> "main-menu")."""
    stem = name[:-4] if name.lower().endswith((".wav", ".mp3")) else name
    if not _NAME.match(stem):
        raise AudioError(f"name {name!r}: use 1-64 lower-case letters, digits, '-' or '_'")
    return stem


def sniff(head: bytes) -> str:
    """'wav' or 'mp3' from the first bytes, or AudioError."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    raise AudioError("not a WAV or MP3 file")


def convert(
    source: Path, target_dir: Path, name: str, settings: MediaSettings, room: int | None = None
) -> StoredAudio:
    """Check and convert one file; writes <target_dir>/<rate>/<name>.wav and <target_dir>/<name>.wav.

    `room`: bytes the converted files may take (the tenant's quota left); None = no quota.
    """
    size = source.stat().st_size
    if size > settings.max_upload_bytes:
        raise AudioError(f"file too large: {size // 1024} KB, at most {settings.max_upload_bytes // 1024} KB")
    if size == 0:
        raise AudioError("the file is empty")
    with source.open("rb") as f:
        kind = sniff(f.read(12))
    try:
        seconds = duration_seconds(source, kind)
    except ConversionFailed as exc:
        raise AudioError(f"the {kind.upper()} file cannot be decoded") from exc
    if seconds < 0.2:
        raise AudioError("the recording is shorter than 0.2 seconds")
    if seconds > settings.max_upload_seconds:
        raise AudioError(f"the recording is {seconds:.0f} s long, at most {settings.max_upload_seconds} s")
    if room is not None and needed_bytes(seconds) > room:
        raise QuotaExceeded(0, 0, needed_bytes(seconds))
    written: list[Path] = []
    for rate in RATES:
        try:
            written.append(to_switch_wav(source, target_dir / str(rate) / f"{name}.wav", rate, kind))
        except ConversionFailed as exc:
            raise AudioError(f"the {kind.upper()} file cannot be converted") from exc
    fallback = target_dir / f"{name}.wav"
    shutil.copyfile(written[0], fallback)
    return StoredAudio(name, int(seconds * 1000), (*written, fallback))


def store_upload(
    session: Session, settings: MediaSettings, domain: str, source: Path, name: str, original_name: str = ""
) -> StoredAudio:
    """Convert an uploaded file into the tenant's audio and record it (replacing one of the same name)."""
    stem = audio_name(name)
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
    if tenant is None:
        raise AudioError(f"no tenant {domain}")
    try:
        base = tenant_root(settings.audio_root, tenant.domain)
    except StorageError as exc:
        raise AudioError(str(exc)) from exc
    # The files of an upload it replaces are freed by it.
    used = stored_bytes(base) - stored_bytes(base, stem)
    quota = quota_for(settings, tenant)
    with tempfile.TemporaryDirectory(prefix="kumo-upload-") as tmp:
        staged = Path(tmp) / "upload"
        shutil.copyfile(source, staged)
        try:
            stored = convert(staged, base, stem, settings, room=max(quota - used, 0))
        except QuotaExceeded as exc:
            raise QuotaExceeded(used, quota, exc.needed) from None
    row = session.scalar(
        select(models.AudioFile).where(models.AudioFile.tenant_id == tenant.id, models.AudioFile.name == stem)
    )
    if row is None:
        row = models.AudioFile(tenant_id=tenant.id, name=stem)
        session.add(row)
        if stem == HOLD_MUSIC_AUDIO:
            # Whether a tenant has its own hold music is routing data (fsctl.routing.hold): the
            # cached snapshots must see it (audio rows alone do not bump the config version).
            tenant.config_version = models.Tenant.config_version + 1
    row.original_name = (original_name or source.name)[:255]
    row.duration_ms = stored.duration_ms
    row.uploaded_at = dt.datetime.now(dt.UTC)
    log.info("audio %s of %s stored (%d ms)", stem, tenant.domain, stored.duration_ms)
    return stored


def delete_audio(session: Session, settings: MediaSettings, domain: str, name: str) -> list[Path]:
    """Forget one of the tenant's uploads; returns its files, for the caller to remove once committed.

    Empty when the tenant has no upload of that name. Files go only after the commit: a failed commit
    then leaves the row and its files as they were, never a row pointing at missing files.
    """
    stem = audio_name(name)
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
    if tenant is None:
        return []
    row = session.scalar(
        select(models.AudioFile).where(models.AudioFile.tenant_id == tenant.id, models.AudioFile.name == stem)
    )
    if row is None:
        return []
    in_use = session.scalar(
        select(func.count())
        .select_from(models.Destination)
        .where(models.Destination.tenant_id == tenant.id, models.Destination.announcement == stem)
    )
    if in_use:
        # A number or menu option would play nothing: the tenant file refuses that at save time too.
        raise AudioError(
            f"{stem} is played as an announcement by {in_use} destination(s); point them elsewhere first"
        )
    session.delete(row)
    if stem == HOLD_MUSIC_AUDIO:
        # Back to the platform's stream: routing data, as in store_upload.
        tenant.config_version = models.Tenant.config_version + 1
    try:
        base = tenant_root(settings.audio_root, tenant.domain)
    except StorageError:
        return []
    log.info("audio %s of %s deleted", stem, tenant.domain)
    return [base / f"{stem}.wav", *(base / str(rate) / f"{stem}.wav" for rate in RATES)]
