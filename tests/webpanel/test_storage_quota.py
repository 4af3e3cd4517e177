"""Per-tenant storage quota for uploads, by plan: shown with its usage, enforced on every
upload (greetings, announcements, music on hold), refused with a clear error before anything is stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from panel_helpers import PanelClient, field_error, signup, tenant_of
from sqlalchemy import select
from test_media_page import wav_bytes

from fsctl import models
from fsctl.media.audio import QuotaExceeded, store_upload
from fsctl.media.quota import needed_bytes
from fsctl.media.settings import MediaSettings
from webpanel.extensions import db

pytestmark = pytest.mark.system_package("sox")

# Room for about three seconds of converted audio during the trial.
TRIAL_QUOTA = needed_bytes(3.2)


@pytest.fixture
def media(app, tmp_path) -> MediaSettings:
    settings = MediaSettings(
        audio_root=str(tmp_path / "audio"),
        storage_quota_trial_bytes=TRIAL_QUOTA,
        storage_quota_bytes=50 * 1024 * 1024,
    )
    app.config["MEDIA_SETTINGS"] = settings
    return settings


@pytest.fixture
def trial(app) -> PanelClient:
    panel = PanelClient(app.test_client())
    signup(panel, company="Trial Co", email="trial@acme.example")
    return panel


def upload(panel: PanelClient, name: str, seconds: float):
    return panel.post(
        "/voicemail/audio",
        {"name": name, "file": (io.BytesIO(wav_bytes(seconds)), f"{name}.wav")},
        content_type="multipart/form-data",
    )


def test_a_trial_tenant_gets_a_small_quota_and_a_clear_refusal(app, trial, media):
    domain = tenant_of(app, "trial@acme.example").domain
    page = trial.get("/voicemail/").get_data(as_text=True)
    assert 'id="storage-usage"' in page and "0.0 MB を使用中" in page
    assert upload(trial, "first", 2.0).status_code == 302
    refused = upload(trial, "second", 2.0)
    assert refused.status_code == 422
    message = field_error(refused.get_data(as_text=True), "file")
    assert message.startswith("保存容量が足りません。") and "0.1 MB 必要です" in message
    assert not list((Path(media.audio_root) / domain).rglob("second.wav"))
    with app.app_context():
        assert db.session.scalars(select(models.AudioFile.name)).all() == ["first"]
    # Replacing an upload frees its own files first.
    assert upload(trial, "first", 2.5).status_code == 302
    trial.get("/lang/en")
    english = field_error(upload(trial, "second", 2.0).get_data(as_text=True), "file")
    assert english.startswith("Not enough storage:")


def test_music_on_hold_counts_too(app, trial, media):
    assert upload(trial, "first", 2.0).status_code == 302
    response = trial.post(
        "/hold-music/",
        {"file": (io.BytesIO(wav_bytes(2.0)), "music.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "file").startswith("保存容量が足りません。")
    assert 'id="storage-usage"' in trial.get("/hold-music/").get_data(as_text=True)


def test_an_active_tenant_has_the_plans_quota(app, admin, media):
    assert upload(admin, "first", 2.0).status_code == 302
    assert upload(admin, "second", 2.0).status_code == 302
    assert "50.0 MB" in admin.get("/voicemail/").get_data(as_text=True)


def test_the_cli_path_is_held_to_the_same_quota(app, trial, media, tmp_path, session_factory):
    domain = tenant_of(app, "trial@acme.example").domain
    source = tmp_path / "long.wav"
    source.write_bytes(wav_bytes(4.0))
    with session_factory() as session, pytest.raises(QuotaExceeded) as refused:
        store_upload(session, media, domain, source, "long")
    assert refused.value.quota == TRIAL_QUOTA and "not enough storage" in str(refused.value)
