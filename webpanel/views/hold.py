"""Music on hold: the platform's stream, or the tenant's own upload (the audio named `hold-music`).

fsctl.routing.hold decides what held callers hear from whether that upload exists; uploading the first
one and deleting it bump the tenant's config version (fsctl.media.audio), so the very next call's
dialplan follows. A replaced upload keeps its path: the switch opens the new file at the next hold.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from sqlalchemy import select

from fsctl import models
from fsctl.media.audio import AudioError, delete_audio, store_upload
from fsctl.media.recordings import StorageError, tenant_file
from fsctl.routing.hold import HOLD_MUSIC_AUDIO
from webpanel.extensions import db
from webpanel.security import admin_required
from webpanel.tenantdoc import audit
from webpanel.views.common import actor
from webpanel.views.media import allow_audio_upload, media_settings, megabytes, refusal, storage_usage

bp = Blueprint("hold", __name__, url_prefix="/hold-music")
allow_audio_upload(bp, "hold.upload", lambda message, status: _page(message, status))


def _own_music() -> models.AudioFile | None:
    return db.session.scalar(
        select(models.AudioFile).where(
            models.AudioFile.tenant_id == g.tenant.id, models.AudioFile.name == HOLD_MUSIC_AUDIO
        )
    )


def _page(error: str | None = None, status: int = 200):
    settings = media_settings()
    return (
        render_template(
            "hold/index.html",
            music=_own_music(),
            error=error,
            max_mb=megabytes(settings.max_upload_bytes),
            max_minutes=settings.max_upload_seconds // 60,
            storage=storage_usage(),
        ),
        status,
    )


@bp.get("/")
@admin_required
def index():
    return _page()


@bp.post("/")
@admin_required
def upload():
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _page(gettext("Choose a WAV or MP3 file."), 422)
    with tempfile.TemporaryDirectory(prefix="kumo-panel-") as tmp:
        staged = Path(tmp) / "upload"
        upload_file.save(staged)
        try:
            store_upload(
                db.session,
                media_settings(),
                g.tenant.domain,
                staged,
                HOLD_MUSIC_AUDIO,
                original_name=upload_file.filename,
            )
        except AudioError as exc:
            db.session.rollback()
            return _page(refusal(exc), 422)
    audit(actor(), "hold_music.upload", upload_file.filename[:200], g.tenant.id)
    db.session.commit()
    flash(gettext("Your music on hold is used from the next call."), "ok")
    return redirect(url_for("hold.index"))


@bp.post("/delete")
@admin_required
def delete():
    try:
        files = delete_audio(db.session, media_settings(), g.tenant.domain, HOLD_MUSIC_AUDIO)
    except AudioError as refused:
        flash(str(refused), "error")
        return redirect(url_for("hold.index"))
    if files:
        audit(actor(), "hold_music.remove", HOLD_MUSIC_AUDIO, g.tenant.id)
        db.session.commit()
        for path in files:
            path.unlink(missing_ok=True)
    flash(gettext("The standard music on hold is used from the next call."), "ok")
    return redirect(url_for("hold.index"))


@bp.get("/hold-music.wav")
@admin_required
def audio():
    """The tenant's own hold music (16 kHz, the better of the two stored rates) for the browser."""
    if _own_music() is None:
        abort(404)
    try:
        path = tenant_file(media_settings().audio_root, g.tenant.domain, f"16000/{HOLD_MUSIC_AUDIO}.wav")
    except StorageError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", max_age=0)
