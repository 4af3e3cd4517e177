"""Music on hold page: the platform default or the tenant's upload, effective on the very next call."""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse
from pathlib import Path

import pytest
from lxml import etree
from panel_helpers import PASSWORD, PanelClient, field_error, set_status, signup, tenant_of
from sqlalchemy import select
from test_media_page import wav_bytes

from fsctl import models
from fsctl.media.settings import MediaSettings
from fsctl.routing.hold import DEFAULT_HOLD_MUSIC
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore
from webpanel.extensions import db

pytestmark = pytest.mark.system_package("sox")

EMAIL = "admin@acme.example"
TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def media(app, tmp_path) -> MediaSettings:
    settings = MediaSettings(audio_root=str(tmp_path / "audio"), max_upload_bytes=200_000)
    app.config["MEDIA_SETTINGS"] = settings
    return settings


def upload(panel: PanelClient, data: bytes, filename: str = "music.wav", **kwargs):
    return panel.post(
        "/hold-music/", {"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data", **kwargs
    )


def config_version(app) -> int:
    with app.app_context():
        return db.session.get(models.Tenant, tenant_of(app, EMAIL).id).config_version


def test_upload_play_and_back_to_the_default(app, admin, media):
    domain = tenant_of(app, EMAIL).domain
    page = admin.get("/hold-music/").get_data(as_text=True)
    assert "標準の保留音" in page and "<audio" not in page
    assert admin.get("/hold-music/hold-music.wav").status_code == 404
    response = upload(admin, wav_bytes(2.0), "社歌.wav", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "次の通話から独自の保留音が流れます。" in page and "独自の保留音" in page and "社歌.wav" in page
    assert 'src="/hold-music/hold-music.wav"' in page
    audio = admin.get("/hold-music/hold-music.wav")
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF" and audio.mimetype == "audio/wav"
    root = Path(media.audio_root) / domain
    stored = [root / "hold-music.wav", root / "8000" / "hold-music.wav", root / "16000" / "hold-music.wav"]
    assert all(path.is_file() for path in stored)
    with app.app_context():
        actions = db.session.scalars(select(models.AuditEntry.action)).all()
    assert "hold_music.upload" in actions
    response = admin.post("/hold-music/delete", follow_redirects=True)
    assert "次の通話から標準の保留音が流れます。" in response.get_data(as_text=True)
    assert not any(path.exists() for path in stored)
    assert admin.get("/hold-music/hold-music.wav").status_code == 404
    assert "<audio" not in admin.get("/hold-music/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"not audio at all", "x.wav", "WAV または MP3 のファイルではありません"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "broken.wav", "the WAV file cannot be decoded"),
        (wav_bytes(20.0), "long.wav", "file too large"),  # 320 KB over the 200 KB limit
    ],
)
def test_bad_files_are_refused_with_a_reason_and_nothing_changes(app, admin, media, data, filename, message):
    before = config_version(app)
    response = upload(admin, data, filename)
    assert response.status_code == 422
    shown = field_error(response.get_data(as_text=True), "file")
    assert shown.startswith("ファイルを受け付けられませんでした") and message in shown
    assert "標準の保留音" in response.get_data(as_text=True)
    assert config_version(app) == before
    assert not (Path(media.audio_root) / tenant_of(app, EMAIL).domain / "hold-music.wav").exists()


def test_a_file_far_over_the_limit_gets_a_page_saying_so(app, admin, media):
    response = upload(admin, b"\0" * (media.max_upload_bytes + 1_200_000), "huge.wav")
    assert response.status_code == 413
    assert field_error(response.get_data(as_text=True), "file") == "ファイルが大きすぎます (0.2 MB まで)。"
    # The panel's own 2 MB cap on requests does not apply to audio: the media limit does.
    app.config["MEDIA_SETTINGS"] = MediaSettings(
        audio_root=media.audio_root, max_upload_bytes=20 * 1024 * 1024
    )
    assert upload(admin, wav_bytes(150.0)).status_code == 302  # 2.4 MB
    # Anywhere else the 2 MB cap stays.
    assert admin.post("/settings", {"x": "y" * (3 * 1024 * 1024)}).status_code == 413


def test_no_file_chosen(app, admin, media):
    response = admin.post("/hold-music/", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert (
        field_error(response.get_data(as_text=True), "file") == "WAV または MP3 のファイルを選んでください。"
    )


def phone_call(fixtures_dir, domain: str) -> dict[str, str]:
    """The captured `1001 dials 1002` body, as 101 of `domain` dialling 102 (synthetic rewrite)."""
    body = (fixtures_dir / "xml_curl" / "dialplan-bridge-1002.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields.update(
        {
            "Hunt-Context": domain,
            "Caller-Context": domain,
            "Hunt-Destination-Number": "102",
            "Caller-Destination-Number": "102",
            "variable_domain_name": domain,
            "variable_user_name": "101",
            "variable_sip_auth_username": "101",
        }
    )
    return fields


def test_the_next_call_plays_the_new_music_and_then_the_default_again(
    app, admin, media, engine, settings, fixtures_dir
):
    for extension in ("101", "102"):
        admin.post("/users/new", {"extension": extension, "name": extension, "voicemail.enabled": "on"})
    domain = tenant_of(app, EMAIL).domain
    store = LookupStore(engine=engine)
    responder = DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    call = phone_call(fixtures_dir, domain)

    def hold_music() -> str:
        root = etree.fromstring(responder.answer(call))
        exports = [a.get("data") for a in root.iter("action") if a.get("application") == "export"]
        (music,) = [e.split("=", 1)[1] for e in exports if e.startswith("hold_music=")]
        return music

    assert hold_music() == DEFAULT_HOLD_MUSIC  # the routing snapshot is now cached
    before = config_version(app)
    upload(admin, wav_bytes())
    assert config_version(app) > before
    own = f"${{kumo_audio_dir}}/{domain}/hold-music.wav"
    assert hold_music() == own
    # Replacing it keeps the path: the switch opens the new file at the next hold.
    assert upload(admin, wav_bytes(3.0)).status_code == 302
    assert hold_music() == own
    before = config_version(app)
    admin.post("/hold-music/delete")
    assert config_version(app) > before
    assert hold_music() == DEFAULT_HOLD_MUSIC
    store.reset()


def test_roles_csrf_and_tenants(app, admin, media):
    upload(admin, wav_bytes())
    anonymous = PanelClient(app.test_client())
    assert "/login" in anonymous.get("/hold-music/").headers["Location"]
    assert anonymous.get("/hold-music/hold-music.wav").status_code == 302
    assert upload(anonymous, b"\0" * 3_000_000).status_code == 413  # the generic page, no tenant
    admin.post("/users/new", {"extension": "101", "name": "太郎", "voicemail.enabled": "on"})
    with app.app_context():
        uid = db.session.scalar(select(models.User.id).where(models.User.extension == "101"))
    admin.post(f"/users/{uid}/login", {"email": "taro@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    person.login("taro@acme.example")
    assert person.get("/hold-music/").status_code == 403
    assert person.get("/hold-music/hold-music.wav").status_code == 403
    assert upload(person, wav_bytes()).status_code == 403
    assert person.post("/hold-music/delete").status_code == 403
    # Without the CSRF token nothing is deleted.
    assert admin.client.post("/hold-music/delete", data={}).status_code == 400
    assert admin.get("/hold-music/hold-music.wav").status_code == 200
    # Another tenant has its own (none), never this one's.
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    assert other.get("/hold-music/hold-music.wav").status_code == 404
    assert "標準の保留音" in other.get("/hold-music/").get_data(as_text=True)
    other.post("/hold-music/delete")
    assert admin.get("/hold-music/hold-music.wav").status_code == 200
