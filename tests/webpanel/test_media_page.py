"""The voicemail and recordings page: lists, listening through tenant-checked paths, audio uploads."""

from __future__ import annotations

import datetime as dt
import io
import math
import wave
from array import array
from pathlib import Path

import pytest
from panel_helpers import PanelClient, set_status, signup, tenant_of

from fsctl import models
from fsctl.media.settings import MediaSettings
from webpanel.extensions import db

NOW = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(array("h", (int(9000 * math.sin(i / 3)) for i in range(int(rate * seconds)))).tobytes())
    return buffer.getvalue()


@pytest.fixture
def media(app, tmp_path) -> MediaSettings:
    settings = MediaSettings(
        voicemail_root=str(tmp_path / "vm"),
        recordings_root=str(tmp_path / "rec"),
        audio_root=str(tmp_path / "audio"),
    )
    app.config["MEDIA_SETTINGS"] = settings
    return settings


def add_media(app, domain: str, media: MediaSettings) -> tuple[int, int]:
    """One message and one recording for `domain`, with their files."""
    with app.app_context():
        tenant = db.session.scalar(db.select(models.Tenant).where(models.Tenant.domain == domain))
        vm = f"{media.voicemail_root}/{domain}/101/msg_1.wav"
        rec = f"{media.recordings_root}/{domain}/2026/11/25/abcdef12-3456.wav"
        for path in (Path(vm), Path(rec)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wav_bytes())
        message = models.VoicemailMessage(
            tenant_id=tenant.id,
            mailbox="101",
            caller_number="0312345678",
            caller_name="",
            received_at=NOW,
            duration_seconds=4,
            file_path=vm,
        )
        recording = models.CallRecording(
            tenant_id=tenant.id,
            call_uuid="abcdef12",
            user_extension="101",
            caller="101",
            callee="0312345678",
            direction="outbound",
            started_at=NOW,
            duration_seconds=30,
            file_path=rec,
            file_size=100,
        )
        db.session.add_all([message, recording])
        db.session.commit()
        return message.id, recording.id


def test_admin_lists_and_listens_to_the_tenants_media_only(app, admin, media):
    domain = tenant_of(app, "admin@acme.example").domain
    message_id, recording_id = add_media(app, domain, media)
    page = admin.get("/voicemail/").get_data(as_text=True)
    assert f"message-{message_id}" in page and f"recording-{recording_id}" in page and "0312345678" in page
    audio = admin.get(f"/voicemail/messages/{message_id}.wav")
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    assert admin.get(f"/voicemail/recordings/{recording_id}.wav").status_code == 200
    # another tenant's admin sees none of it
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    assert f"message-{message_id}" not in other.get("/voicemail/").get_data(as_text=True)
    assert other.get(f"/voicemail/messages/{message_id}.wav").status_code == 404
    assert other.get(f"/voicemail/recordings/{recording_id}.wav").status_code == 404


@pytest.mark.system_package("sox")
def test_upload_converts_or_explains(app, admin, media):
    ok = admin.post(
        "/voicemail/audio",
        {"name": "main-menu", "file": (io.BytesIO(wav_bytes()), "menu.wav")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "main-menu.wav" in ok.get_data(as_text=True)
    domain = tenant_of(app, "admin@acme.example").domain
    assert (Path(media.audio_root) / domain / "16000" / "main-menu.wav").exists()
    bad = admin.post(
        "/voicemail/audio",
        {"name": "x", "file": (io.BytesIO(b"not audio"), "x.wav")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    # Shown on the file field, in the page's language (a clear field error).
    assert bad.status_code == 422 and "WAV または MP3 のファイルではありません" in bad.get_data(as_text=True)


@pytest.mark.system_package("sox")
def test_uploads_pass_the_panels_request_cap_up_to_the_media_limit(app, admin, media):
    # 2.4 MB: over the panel's 2 MB request cap, under the 20 MB media limit.
    ok = admin.post(
        "/voicemail/audio",
        {"name": "long-greeting", "file": (io.BytesIO(wav_bytes(150.0)), "long.wav")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    app.config["MEDIA_SETTINGS"] = MediaSettings(audio_root=media.audio_root, max_upload_bytes=100_000)
    huge = admin.post(
        "/voicemail/audio",
        {"name": "huge", "file": (io.BytesIO(b"\0" * 1_200_000), "huge.wav")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert huge.status_code == 200 and "ファイルが大きすぎます (0.1 MB まで)。" in huge.get_data(as_text=True)
