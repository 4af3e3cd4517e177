"""Deleting an upload: the row goes with the commit, the files after it; hold music is routing data."""

from __future__ import annotations

from pathlib import Path

import pytest
from kumo_support import tone_wav
from planners import load_snapshot
from sqlalchemy import select

from fsctl import db, models
from fsctl.media.audio import delete_audio, store_upload
from fsctl.media.settings import MediaSettings

pytestmark = pytest.mark.system_package("sox")

DOMAIN = "acme.kumo.test"


def tone(path: Path) -> Path:
    """One second of 440 Hz, 8 kHz mono."""
    return tone_wav(path, rate=8000, channels=1)


def version(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(models.Tenant.config_version).where(models.Tenant.domain == DOMAIN))


def test_deleting_hold_music_goes_back_to_the_default_on_the_next_lookup(
    make_tenant, session_factory, tmp_path
):
    make_tenant()
    media = MediaSettings(audio_root=str(tmp_path / "audio"))
    with db.session_scope(session_factory) as session:
        stored = store_upload(session, media, DOMAIN, tone(tmp_path / "music.wav"), "hold-music")
    before = version(session_factory)
    with db.session_scope(session_factory) as session:
        files = delete_audio(session, media, DOMAIN, "hold-music.wav")
    assert sorted(files) == sorted(stored.paths)
    assert all(path.exists() for path in files)  # the caller removes them once committed
    assert version(session_factory) == before + 1
    with session_factory() as session:
        assert load_snapshot(session, domain=DOMAIN).hold_music is None
    with db.session_scope(session_factory) as session:
        assert delete_audio(session, media, DOMAIN, "hold-music") == []  # nothing left to delete
        assert delete_audio(session, media, "nobody.kumo.test", "hold-music") == []
    assert version(session_factory) == before + 1


def test_deleting_another_upload_leaves_the_config_version(make_tenant, session_factory, tmp_path):
    make_tenant()
    media = MediaSettings(audio_root=str(tmp_path / "audio"))
    with db.session_scope(session_factory) as session:
        store_upload(session, media, DOMAIN, tone(tmp_path / "greeting.wav"), "greeting")
    before = version(session_factory)
    with db.session_scope(session_factory) as session:
        assert len(delete_audio(session, media, DOMAIN, "greeting")) == 3
    with session_factory() as session:
        assert session.scalar(select(models.AudioFile.id)) is None
    assert version(session_factory) == before


def test_an_upload_played_as_an_announcement_cannot_be_deleted(make_tenant, session_factory, tmp_path):
    import pytest

    from fsctl.media.audio import AudioError

    make_tenant()
    media = MediaSettings(audio_root=str(tmp_path / "audio"))
    with db.session_scope(session_factory) as session:
        store_upload(session, media, DOMAIN, tone(tmp_path / "music.wav"), "hold-music")
    make_tenant(numbers=[{"number": "0312345678", "destination": {"announcement": "hold-music"}}])
    with (
        pytest.raises(AudioError, match="played as an announcement by 1 destination"),
        db.session_scope(session_factory) as session,
    ):
        delete_audio(session, media, DOMAIN, "hold-music")
    with session_factory() as session:
        assert session.scalar(select(models.AudioFile.name)) == "hold-music"  # nothing deleted
    make_tenant()  # the number rings the ring group again
    with db.session_scope(session_factory) as session:
        assert len(delete_audio(session, media, DOMAIN, "hold-music")) == 3
