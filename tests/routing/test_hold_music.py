"""Music on hold: set on every leg that faces a tenant's phone, the default stream or the tenant's upload."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from factories import at, make_snapshot
from kumo_support import tone_wav
from lxml import etree
from planners import load_snapshot, load_snapshot_rows, plan_continuation, plan_from_carrier, plan_from_phone

from fsctl import db
from fsctl.media.audio import store_upload
from fsctl.media.settings import MediaSettings
from fsctl.routing.hold import DEFAULT_HOLD_MUSIC, HOLD_MUSIC_AUDIO
from fsctl.xml.dialplan import render
from fsctl.xmlcurl.store import LookupStore

OPEN = at("2026-12-01 10:00")
REPO = Path(__file__).resolve().parents[2]
OWN = "${kumo_audio_dir}/acme.kumo.test/hold-music.wav"


def xml_actions(plan) -> list[tuple[str, str]]:
    doc = etree.fromstring(render(plan))
    return [(a.get("application"), a.get("data") or "") for a in doc.iter("action")]


def before_first_bridge(actions: list[tuple[str, str]], wanted: tuple[str, str]) -> bool:
    bridge = next(i for i, (app, _) in enumerate(actions) if app == "bridge")
    return wanted in actions[:bridge]


def test_the_default_is_the_moh_stream_the_switch_config_defines():
    assert DEFAULT_HOLD_MUSIC == "local_stream://moh"
    conf = etree.parse(str(REPO / "freeswitch/autoload_configs/local_stream.conf.xml"))
    assert conf.find(".//directory[@name='moh']") is not None


def test_an_internal_call_sets_it_on_both_phones_before_ringing():
    actions = xml_actions(plan_from_phone(make_snapshot(), "101", "102", OPEN))
    # export: on the caller's leg and on the leg that rings 102 (both are the tenant's phones).
    assert before_first_bridge(actions, ("export", "hold_music=local_stream://moh"))


def test_a_carrier_call_sets_it_only_on_the_phones_legs():
    plan = plan_from_carrier(make_snapshot(), "0312345001", "+81311112222", OPEN, national="0312345001")
    actions = xml_actions(plan)
    assert before_first_bridge(actions, ("export", "nolocal:hold_music=local_stream://moh"))
    assert not any(data.startswith("hold_music=") for _, data in actions)
    group = xml_actions(plan_from_carrier(make_snapshot(), "0312345678", "", OPEN, national="0312345678"))
    assert before_first_bridge(group, ("export", "nolocal:hold_music=local_stream://moh"))


def test_an_outbound_call_sets_it_on_the_phone():
    plan = plan_from_phone(make_snapshot(), "101", "0311112222", OPEN)
    assert before_first_bridge(xml_actions(plan), ("export", "hold_music=local_stream://moh"))


def test_the_tenants_upload_replaces_the_default_everywhere():
    snap = replace(make_snapshot(), hold_music=HOLD_MUSIC_AUDIO)
    internal = xml_actions(plan_from_phone(snap, "101", "102", OPEN))
    assert before_first_bridge(internal, ("export", f"hold_music={OWN}"))
    carrier = xml_actions(plan_from_carrier(snap, "0312345001", "", OPEN, national="0312345001"))
    assert before_first_bridge(carrier, ("export", f"nolocal:hold_music={OWN}"))
    park_return = plan_continuation(
        snap, "acme.kumo.test", "kumo-parkreturn-102-705", frozenset(), "101", OPEN
    )
    assert before_first_bridge(xml_actions(park_return), ("export", f"hold_music={OWN}"))
    # another tenant keeps the default
    other = xml_actions(plan_from_phone(make_snapshot(id=2, domain="beta.kumo.test"), "101", "102", OPEN))
    assert ("export", "hold_music=local_stream://moh") in other


def test_set_once_per_plan_even_with_several_bridges():
    snap = replace(make_snapshot(), hold_music=HOLD_MUSIC_AUDIO)
    plan = plan_from_carrier(snap, "0312345678", "", OPEN, national="0312345678")
    assert sum(1 for a in plan.actions if a.app == "export" and "hold_music=" in a.data) == 1


def tone(path: Path) -> Path:
    """One second of 440 Hz, 8 kHz mono."""
    return tone_wav(path, rate=8000, channels=1)


@pytest.mark.system_package("sox")
def test_uploading_hold_music_reaches_both_snapshot_loaders(make_tenant, session_factory, engine, tmp_path):
    make_tenant()
    media = MediaSettings(audio_root=str(tmp_path / "audio"), max_upload_bytes=2_000_000)
    with session_factory() as session:
        before = load_snapshot(session, domain="acme.kumo.test")
    assert before.hold_music is None
    with db.session_scope(session_factory) as session:
        store_upload(session, media, "acme.kumo.test", tone(tmp_path / "greeting.wav"), "greeting")
    with session_factory() as session:
        assert load_snapshot(session, domain="acme.kumo.test").hold_music is None
    with db.session_scope(session_factory) as session:
        store_upload(session, media, "acme.kumo.test", tone(tmp_path / "music.wav"), "hold-music.wav")
    with session_factory() as session:
        orm = load_snapshot(session, domain="acme.kumo.test")
    raw = load_snapshot_rows(LookupStore(engine=engine).fetch_all, orm.id)
    assert orm.hold_music == raw.hold_music == HOLD_MUSIC_AUDIO
    # the cached snapshots (keyed by config_version) are replaced on the next lookup
    assert orm.config_version > before.config_version
