"""FSCTL_SHARED_STORAGE_DIR: one folder shared by every node and kumo instance holds voicemail,
recordings, faxes and uploaded audio, so a tenant moved to another node keeps its files."""

from __future__ import annotations

import pytest
from lxml import etree

from fsctl.config import SettingError, Settings
from fsctl.devrun import plan_switch, site_vars
from fsctl.fax.intake import DEFAULT_FAX_DIR, fax_settings_from_env
from fsctl.media.settings import MediaSettings, media_settings_from_env
from fsctl.media.vm_config import render_voicemail_conf


def storage_dir_param(settings: MediaSettings) -> str | None:
    params = etree.fromstring(render_voicemail_conf(settings)).findall(".//profile/param")
    return next((p.get("value") for p in params if p.get("name") == "storage-dir"), None)


def test_one_setting_puts_every_kind_of_file_under_the_shared_folder(tmp_path):
    shared = tmp_path / "nodes-storage"
    env = {"FSCTL_SHARED_STORAGE_DIR": str(shared)}
    media = media_settings_from_env(env)
    assert media.voicemail_root == str(shared / "voicemail")
    assert media.recordings_root == str(shared / "recordings")
    assert media.audio_root == str(shared / "audio")
    assert fax_settings_from_env(env).fax_dir == str(shared / "fax")
    # Every node is told the voicemail folder by kumo's voicemail.conf answer.
    assert storage_dir_param(media) == str(shared / "voicemail")
    # A kind's own variable still wins.
    own = media_settings_from_env({**env, "FSCTL_RECORDINGS_DIR": str(tmp_path / "rec")})
    assert own.recordings_root == str(tmp_path / "rec") and own.audio_root == str(shared / "audio")


def test_without_it_the_folders_are_as_before():
    media = media_settings_from_env({})
    assert media == MediaSettings()
    assert storage_dir_param(media) is None  # the switch's own storage/voicemail/default
    assert fax_settings_from_env({}).fax_dir == DEFAULT_FAX_DIR


def test_the_local_switch_gets_the_shared_folders_through_its_vars(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", instance_dir=tmp_path / "instance"
    )
    shared = tmp_path / "nodes-storage"
    plan = plan_switch(settings, {"FSCTL_SHARED_STORAGE_DIR": str(shared)})
    env = plan.service_env()
    assert env["FSCTL_VOICEMAIL_DIR"] == str(shared / "voicemail")
    values = site_vars(plan, settings, env)
    assert values["kumo_recordings_dir"] == str(shared / "recordings")
    assert values["kumo_fax_dir"] == str(shared / "fax")
    assert values["kumo_audio_dir"] == str(shared / "audio")
    # Unset: kumo's own folders beside the local switch.
    plain = plan_switch(settings, {}).service_env()
    assert plain["FSCTL_VOICEMAIL_DIR"].endswith("storage/voicemail/default")


def odbc_dsn_param(settings: MediaSettings) -> str | None:
    params = etree.fromstring(render_voicemail_conf(settings)).findall(".//profile/param")
    return next((p.get("value") for p in params if p.get("name") == "odbc-dsn"), None)


def test_the_shared_folder_holds_one_voicemail_message_list_for_every_node(tmp_path):
    """mod_voicemail's list of messages is its own database, not the files: without one list for all
    nodes, a moved tenant's phone would find an empty mailbox on its new node."""
    shared = tmp_path / "nodes-storage"
    media = media_settings_from_env({"FSCTL_SHARED_STORAGE_DIR": str(shared)})
    assert odbc_dsn_param(media) == f"sqlite://{shared.resolve() / 'voicemail-index.sqlite3'}"
    # One switch: its own local database, as before.
    assert odbc_dsn_param(media_settings_from_env({})) is None
    # An operator's DSN wins (ODBC or mod_pgsql across hosts); a relative SQLite path is refused.
    pg = media_settings_from_env(
        {"FSCTL_SHARED_STORAGE_DIR": str(shared), "FSCTL_VOICEMAIL_INDEX": "pgsql://x"}
    )
    assert odbc_dsn_param(pg) == "pgsql://x"
    with pytest.raises(SettingError, match="FSCTL_VOICEMAIL_INDEX"):
        media_settings_from_env({"FSCTL_VOICEMAIL_INDEX": "sqlite://relative.db"})
