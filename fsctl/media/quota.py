"""Per-tenant storage quota for uploads: by plan, trial tenants get a small one.

Usage is what lies under the tenant's audio tree on disk (every rate and the fallback copy of every
upload), so nothing can drift from a counter. An upload is refused before anything is written when its
converted files would not fit: sox writes 16-bit mono WAV, so their size follows from the length.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fsctl import models
from fsctl.media.recordings import StorageError, tenant_root
from fsctl.media.settings import MediaSettings

WAV_HEADER = 44
# One upload is stored at 8 kHz, at 16 kHz and as the 8 kHz fallback copy (fsctl.media.audio.convert, fsctl.media.sox).
BYTES_PER_SECOND = 8000 * 2 + 16000 * 2 + 8000 * 2


@dataclass(frozen=True)
class Usage:
    used: int
    quota: int

    @property
    def free(self) -> int:
        return max(self.quota - self.used, 0)


def quota_for(settings: MediaSettings, tenant: models.Tenant) -> int:
    """The tenant's storage quota in bytes: the trial's small one, else the contract's."""
    if tenant.status == models.TenantStatus.TRIAL:
        return settings.storage_quota_trial_bytes
    return settings.storage_quota_bytes


def stored_bytes(root: Path, name: str | None = None) -> int:
    """Bytes of the regular files under `root` (only those of upload `name` when given)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for file in files:
            if name is not None and file != f"{name}.wav":
                continue
            path = Path(folder) / file
            if not path.is_symlink() and path.is_file():
                total += path.stat().st_size
    return total


def usage(settings: MediaSettings, tenant: models.Tenant) -> Usage:
    """How much of its quota the tenant's uploads use."""
    try:
        root = tenant_root(settings.audio_root, tenant.domain)
    except StorageError:
        return Usage(0, quota_for(settings, tenant))
    return Usage(stored_bytes(root), quota_for(settings, tenant))


def needed_bytes(seconds: float) -> int:
    """What an upload of this length takes once converted (all its files)."""
    return int(seconds * BYTES_PER_SECOND) + 3 * WAV_HEADER


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"
