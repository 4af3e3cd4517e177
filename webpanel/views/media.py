"""Voicemail and recordings page: messages and call recordings (own ones for a tenant user, all for an
admin), listening through the tenant-checked file paths of fsctl.media, and audio uploads (admin)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from fsctl import models
from fsctl.media.audio import AudioError, QuotaExceeded, store_upload
from fsctl.media.quota import Usage, usage
from fsctl.media.quota import megabytes as quota_mb
from fsctl.media.recordings import recording_file
from fsctl.media.settings import MediaSettings, inside, media_settings_from_env
from webpanel.extensions import db
from webpanel.i18n import translate_message
from webpanel.security import admin_required, tenant_object, tenant_required

bp = Blueprint("media", __name__, url_prefix="/voicemail")


def media_settings() -> MediaSettings:
    return current_app.config.get("MEDIA_SETTINGS") or media_settings_from_env()


# Multipart framing and the form's other fields, on top of the file itself.
FORM_OVERHEAD = 1024 * 1024


def allow_audio_upload(
    blueprint: Blueprint, endpoint: str, too_large: Callable[[str, int], ResponseReturnValue]
) -> None:
    """Let `endpoint` take a file up to FSCTL_AUDIO_MAX_BYTES, past the panel's 2 MB request cap;
    a bigger one gets `too_large(message, status)` (the page's own way of showing an error).

    The CSRF check (an app before_request) already parses the form, and URL value preprocessors run
    before every before_request (Flask's preprocess_request): the per-request limit (Flask >= 3.1) is
    raised there, for that endpoint alone.
    """

    @blueprint.url_value_preprocessor
    def _raise_limit(current: str | None, _values: dict | None) -> None:
        if current == endpoint:
            request.max_content_length = media_settings().max_upload_bytes + FORM_OVERHEAD

    @blueprint.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        # Raised while the CSRF check read the form: the view (and its role check) has not run yet.
        account = g.get("account")
        if account is None or account.role != models.AccountRole.ADMIN or g.get("tenant") is None:
            return render_template("error.html", code=exc.code, name=exc.name, description=None), exc.code
        limit = megabytes(media_settings().max_upload_bytes)
        return too_large(gettext("The file is too large: at most %(mb)s MB.", mb=limit), exc.code)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _upload_too_large(message: str, _status: int):
    flash(message, "error")
    return redirect(url_for("media.index"))


allow_audio_upload(bp, "media.upload", _upload_too_large)


def own_extension() -> str | None:
    """None for an admin (sees everything); the tenant user's own extension otherwise."""
    if g.account.role == models.AccountRole.ADMIN:
        return None
    user = db.session.get(models.User, g.account.user_id) if g.account.user_id else None
    if user is None:
        abort(403)
    return user.extension


def storage_usage() -> Usage:
    """The signed-in tenant's upload storage: used and quota (shown beside every upload form)."""
    return usage(media_settings(), g.tenant)


def refusal(exc: AudioError) -> str:
    """Why an upload was refused, in the user's language."""
    if isinstance(exc, QuotaExceeded):
        return gettext(
            "Not enough storage: %(used)s MB of %(quota)s MB are used and this file needs %(needed)s MB. "
            "Delete an upload first, or ask us for a larger plan.",
            used=quota_mb(exc.used),
            quota=quota_mb(exc.quota),
            needed=quota_mb(exc.needed),
        )
    return gettext("The file was not accepted: %(reason)s", reason=translate_message(str(exc)))


@bp.get("/")
@tenant_required
def index():
    return _index_page()


def _index_page(upload_error: str | None = None, status: int = 200):
    mine = own_extension()
    messages = select(models.VoicemailMessage).where(models.VoicemailMessage.tenant_id == g.tenant.id)
    recordings = select(models.CallRecording).where(models.CallRecording.tenant_id == g.tenant.id)
    if mine is not None:
        messages = messages.where(models.VoicemailMessage.mailbox == mine)
        recordings = recordings.where(models.CallRecording.user_extension == mine)
    audio = (
        db.session.scalars(
            select(models.AudioFile)
            .where(models.AudioFile.tenant_id == g.tenant.id)
            .order_by(models.AudioFile.name)
        ).all()
        if mine is None
        else []
    )
    return render_template(
        "media/index.html",
        messages=db.session.scalars(
            messages.order_by(models.VoicemailMessage.received_at.desc()).limit(200)
        ).all(),
        recordings=db.session.scalars(
            recordings.order_by(models.CallRecording.started_at.desc()).limit(200)
        ).all(),
        audio=audio,
        admin=mine is None,
        storage=storage_usage() if mine is None else None,
        upload_error=upload_error,
    ), status


@bp.get("/messages/<int:message_id>.wav")
@tenant_required
def message_audio(message_id: int):
    message = tenant_object(models.VoicemailMessage, message_id)
    mine = own_extension()
    if mine is not None and message.mailbox != mine:
        abort(404)
    path = Path(message.file_path)
    root = media_settings().voicemail_root
    # The switch's own storage when no root is configured: <...>/<domain>/<mailbox>/msg_<uuid>.wav
    expected = Path(root) / g.tenant.domain if root else None
    if expected is not None and not inside(expected, path):
        abort(404)
    if expected is None and (
        path.parent.name != message.mailbox or path.parent.parent.name != g.tenant.domain
    ):
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav")


@bp.get("/recordings/<int:recording_id>.wav")
@tenant_required
def recording_audio(recording_id: int):
    recording = tenant_object(models.CallRecording, recording_id)
    mine = own_extension()
    if mine is not None and recording.user_extension != mine:
        abort(404)
    try:
        path = recording_file(db.session, media_settings(), g.tenant.domain, recording.id)
    except LookupError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav")


@bp.post("/audio")
@admin_required
def upload():
    upload_file = request.files.get("file")
    name = request.form.get("name", "").strip()
    if upload_file is None or not upload_file.filename:
        flash(gettext("Choose a WAV or MP3 file."), "error")
        return redirect(url_for("media.index"))
    with tempfile.TemporaryDirectory(prefix="kumo-panel-") as tmp:
        staged = Path(tmp) / "upload"
        upload_file.save(staged)
        try:
            stored = store_upload(
                db.session,
                media_settings(),
                g.tenant.domain,
                staged,
                name or upload_file.filename,
                original_name=upload_file.filename,
            )
        except AudioError as exc:
            db.session.rollback()
            return _index_page(refusal(exc), 422)
    db.session.commit()
    flash(gettext("Saved as %(name)s.wav", name=stored.name), "success")
    return redirect(url_for("media.index"))
