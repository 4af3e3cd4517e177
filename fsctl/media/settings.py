"""Media settings (FSCTL_VOICEMAIL_DIR, FSCTL_RECORDINGS_DIR, FSCTL_SOUNDS_DIR, FSCTL_AUDIO_DIR, FSCTL_SMTP_*;
the storage folders default to FSCTL_SHARED_STORAGE_DIR's subfolders when that is set: fsctl.config).

Kept apart from fsctl.config.Settings (shared by every feature): tests build a MediaSettings directly.
Paths are the switch's paths; kumo reads them too (one switch on the same host or a shared mount).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fsctl.config import PROJECT_ROOT, SettingError, storage_dir
from fsctl.mail import SmtpSettings, smtp_settings_from_env

__all__ = ["MediaSettings", "SmtpSettings", "media_settings_from_env"]


@dataclass(frozen=True)
class MediaSettings:
    # mod_voicemail profile storage-dir: messages land in <voicemail_root>/<domain>/<extension>/.
    # Empty = the switch's default ($${storage_dir}/voicemail/default/<domain>/<extension>).
    voicemail_root: str = ""
    # Where mod_voicemail keeps its own list of messages and mailbox preferences (greeting and name
    # paths): its profile's `odbc-dsn`. Empty = the switch's local core database (its db dir), which
    # is right for one switch. In a cluster every node must read the same list, or a tenant moved to
    # another node finds its mailbox empty on the phone although the files are shared.
    voicemail_index: str = ""
    # record_session files: <recordings_root>/<domain>/<yyyy>/<mm>/<dd>/<uuid>.wav
    recordings_root: str = "/var/lib/kumo/recordings"
    # Uploaded tenant audio: <audio_root>/<domain>/<rate>/<name>.wav
    audio_root: str = "/var/lib/kumo/audio"
    # Generated default prompts (make prompts): <sounds_root>/<lang>/<...>/<rate>/<file>.wav
    sounds_root: str = str(PROJECT_ROOT / "build" / "sounds")
    default_retention_days: int = 90
    max_upload_bytes: int = 20 * 1024 * 1024
    max_upload_seconds: int = 600
    # Storage for a tenant's uploads, by plan (fsctl.media.quota): small during the trial.
    storage_quota_trial_bytes: int = 20 * 1024 * 1024
    storage_quota_bytes: int = 500 * 1024 * 1024
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


def media_settings_from_env(environ: dict[str, str] | None = None) -> MediaSettings:
    """Read the FSCTL_* media and SMTP variables."""
    env = os.environ if environ is None else environ
    d = MediaSettings()
    smtp = smtp_settings_from_env(env)
    return MediaSettings(
        voicemail_root=storage_dir("FSCTL_VOICEMAIL_DIR", d.voicemail_root, env),
        voicemail_index=voicemail_index_from_env(env),
        recordings_root=storage_dir("FSCTL_RECORDINGS_DIR", d.recordings_root, env),
        audio_root=storage_dir("FSCTL_AUDIO_DIR", d.audio_root, env),
        sounds_root=env.get("FSCTL_SOUNDS_DIR", d.sounds_root),
        default_retention_days=int(env.get("FSCTL_RECORDING_RETENTION_DAYS", str(d.default_retention_days))),
        max_upload_bytes=int(env.get("FSCTL_AUDIO_MAX_BYTES", str(d.max_upload_bytes))),
        max_upload_seconds=int(env.get("FSCTL_AUDIO_MAX_SECONDS", str(d.max_upload_seconds))),
        storage_quota_trial_bytes=int(env.get("FSCTL_STORAGE_QUOTA_TRIAL_MB", "20")) * 1024 * 1024,
        storage_quota_bytes=int(env.get("FSCTL_STORAGE_QUOTA_MB", "500")) * 1024 * 1024,
        smtp=smtp,
    )


# The SQLite file of mod_voicemail's message list in the shared folder (FSCTL_SHARED_STORAGE_DIR).
SHARED_VOICEMAIL_INDEX = "voicemail-index.sqlite3"


def voicemail_index_from_env(env: dict[str, str] | os._Environ) -> str:
    """FSCTL_VOICEMAIL_INDEX (a DSN the switch's core database layer takes), else, with a shared
    folder, one SQLite file there that every node opens, else "" (each switch's own database).

    FreeSWITCH's switch_cache_db_get_db_handle_dsn reads `sqlite://<path>` as a core (SQLite)
    database at that path (switch_core_sqldb.c); an absolute path is used as given, not under the
    node's db dir (db_pick_path in switch_core_db.c). SQLite locks the file for the nodes of one
    host or a filesystem with working POSIX locks; across hosts name an ODBC DSN or `pgsql://...`
    (FreeSWITCH's mod_pgsql) in FSCTL_VOICEMAIL_INDEX instead."""
    own = env.get("FSCTL_VOICEMAIL_INDEX", "").strip()
    if own:
        if own.startswith("sqlite://") and not own[len("sqlite://") :].startswith("/"):
            raise SettingError(f"FSCTL_VOICEMAIL_INDEX: {own!r} must name an absolute path (sqlite:///...)")
        return own
    shared = env.get("FSCTL_SHARED_STORAGE_DIR")
    if shared:
        return f"sqlite://{Path(shared).resolve() / SHARED_VOICEMAIL_INDEX}"
    return ""


def inside(root: str | Path, path: str | Path) -> bool:
    """True when `path` (resolved, symlinks followed) lies strictly under `root`."""
    root_p = Path(root).resolve()
    path_p = Path(path).resolve()
    return path_p != root_p and root_p in path_p.parents
