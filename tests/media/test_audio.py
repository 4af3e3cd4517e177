"""Tenant audio uploads: WAV/MP3 converted to 8/16 kHz mono WAV per tenant; bad uploads refused clearly."""

from __future__ import annotations

import subprocess
import wave
from array import array
from pathlib import Path

import pytest
from kumo_support import tone_wav
from sqlalchemy import select

from fsctl import db, models
from fsctl.media.audio import AudioError, store_upload
from fsctl.media.settings import MediaSettings

pytestmark = pytest.mark.system_package("sox")


def check_output(path: Path, rate: int) -> None:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (rate, 1, 2)
        samples = array("h", w.readframes(w.getnframes()))
    assert len(samples) == pytest.approx(rate, rel=0.05) and max(samples) > 10000


@pytest.fixture
def media(tmp_path) -> MediaSettings:
    return MediaSettings(audio_root=str(tmp_path / "audio"), max_upload_bytes=2_000_000)


def test_wav_upload_is_stored_at_both_rates_for_its_tenant(make_tenant, session_factory, media, tmp_path):
    make_tenant()
    source = tone_wav(tmp_path / "Greeting (final).wav")
    with db.session_scope(session_factory) as session:
        stored = store_upload(session, media, "acme.kumo.test", source, "main-menu.wav")
    root = Path(media.audio_root) / "acme.kumo.test"
    assert set(stored.paths) == {
        root / "8000/main-menu.wav",
        root / "16000/main-menu.wav",
        root / "main-menu.wav",
    }
    check_output(root / "8000" / "main-menu.wav", 8000)
    check_output(root / "16000" / "main-menu.wav", 16000)
    with session_factory() as session:
        (row,) = session.scalars(select(models.AudioFile)).all()
        assert (row.name, row.original_name, row.duration_ms) == ("main-menu", "Greeting (final).wav", 1000)


def test_mp3_upload_is_converted(make_tenant, session_factory, media, tmp_path):
    make_tenant()
    mp3 = tmp_path / "in.mp3"
    subprocess.run(["sox", str(tone_wav(tmp_path / "src.wav")), str(mp3)], check=True)
    with db.session_scope(session_factory) as session:
        store_upload(session, media, "acme.kumo.test", mp3, "closed")
    check_output(Path(media.audio_root) / "acme.kumo.test" / "8000" / "closed.wav", 8000)


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"hello, this is not audio at all", "x", "not a WAV or MP3 file"),
        (b"", "x", "empty"),
        (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "x", "cannot be decoded"),
        (None, "../beta/x", "use 1-64 lower-case letters"),
        (None, "Main Menu", "use 1-64 lower-case letters"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(
    make_tenant, session_factory, media, tmp_path, content, name, message
):
    make_tenant()
    source = tmp_path / "upload.wav"
    if content is None:
        tone_wav(source)
    else:
        source.write_bytes(content)
    with pytest.raises(AudioError, match=message), db.session_scope(session_factory) as session:
        store_upload(session, media, "acme.kumo.test", source, name)
    assert not list(Path(media.audio_root).rglob("*.wav"))


def test_oversized_and_too_long_uploads_are_refused(make_tenant, session_factory, tmp_path):
    make_tenant()
    source = tone_wav(tmp_path / "long.wav", rate=8000, channels=1, seconds=3)
    small = MediaSettings(audio_root=str(tmp_path / "a"), max_upload_bytes=10_000)
    with (
        pytest.raises(AudioError, match="file too large: 46 KB, at most 9 KB"),
        db.session_scope(session_factory) as s,
    ):
        store_upload(s, small, "acme.kumo.test", source, "long")
    short = MediaSettings(audio_root=str(tmp_path / "a"), max_upload_seconds=2)
    with pytest.raises(AudioError, match="3 s long, at most 2 s"), db.session_scope(session_factory) as s:
        store_upload(s, short, "acme.kumo.test", source, "long")


def test_unknown_tenant_is_refused_and_cli_reports(make_tenant, database_url, tmp_path, capsys):
    from fsctl.cli import main

    make_tenant()
    source = tone_wav(tmp_path / "g.wav")
    upload = ["--database-url", database_url, "audio", "upload", "--audio-dir", str(tmp_path / "audio")]
    assert main([*upload, "nobody.test", str(source), "g"]) == 1
    assert "no tenant nobody.test" in capsys.readouterr().err
    assert main([*upload, "acme.kumo.test", str(source), "g"]) == 0
    assert "refer to it as g.wav" in capsys.readouterr().out
    assert (tmp_path / "audio" / "acme.kumo.test" / "16000" / "g.wav").exists()
