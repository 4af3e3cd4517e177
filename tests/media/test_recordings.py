"""Call recording: dialplan actions, RECORD_STOP index, tenant-confined storage, retention purge."""

from __future__ import annotations

import datetime as dt
import gzip
import os

import pytest
from lxml import etree
from planners import plan_from_carrier, plan_from_phone
from sqlalchemy import select

from fsctl import db, models
from fsctl.media.eventlog import iter_events
from fsctl.media.recordings import RecordingEventHandler, StorageError, purge, set_retention, tenant_file
from fsctl.media.settings import MediaSettings
from fsctl.routing.snapshot import Dest, NumberSnap, RingGroupSnap, TenantSnap, UserSnap
from fsctl.xml.dialplan import render

NOW = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)  # 2026-12-01 01:00 in Tokyo
UUID = "304da6a3-5975-42aa-a1c4-f37f4808e7e2"


def snap(recording: set[str]) -> TenantSnap:
    users = {e: UserSnap(e, f"U{e}", recording_enabled=e in recording) for e in ("101", "102", "103")}
    return TenantSnap(
        id=1,
        domain="acme.kumo.test",
        name="Acme",
        users=users,
        status="active",
        max_external_channels=2,
        numbers={
            "0312345001": NumberSnap("0312345001", "+81312345001", "geographic", Dest("user", "102")),
            "0312345678": NumberSnap("0312345678", "+81312345678", "geographic", Dest("ring_group", "g")),
        },
        ring_groups={"g": RingGroupSnap("g", ("102", "103"))},
    )


def actions(plan) -> list[tuple[str, str]]:
    return [(a.app, a.data) for a in plan.actions]


def test_outbound_internal_and_inbound_calls_of_a_recording_user_are_recorded():
    path = "kumo_record_path=${kumo_recordings_dir}/acme.kumo.test/2026/12/01/${uuid}.wav"
    out = actions(plan_from_phone(snap({"101"}), "101", "0312349999", NOW))
    assert ("set", "kumo_record_direction=outbound") in out and ("set", path) in out
    assert out.index(("record_session", "${kumo_record_path}")) < [a for a, _ in out].index("bridge")
    for flag in (
        "RECORD_STEREO=true",
        "RECORD_BRIDGE_REQ=true",
        "recording_follow_transfer=true",
        "recording_follow_attxfer=true",
    ):
        assert ("set", flag) in out
    internal = actions(plan_from_phone(snap({"102"}), "101", "102", NOW))
    assert ("set", "kumo_record_direction=internal") in internal and (
        "set",
        "kumo_record_user=102",
    ) in internal
    inbound = plan_from_carrier(snap({"102"}), "0312345001", "09011112222", NOW, national="0312345001")
    assert ("set", "kumo_record_direction=inbound") in actions(inbound)
    # the rendered XML keeps the variables for FreeSWITCH to expand
    root = etree.fromstring(render(inbound))
    assert root.find(".//action[@application='record_session']").get("data") == "${kumo_record_path}"


def test_users_without_the_option_are_not_recorded_and_both_sides_record_once():
    assert not any(a == "record_session" for a, _ in actions(plan_from_phone(snap(set()), "101", "102", NOW)))
    both = actions(plan_from_phone(snap({"101", "102"}), "101", "102", NOW))
    assert [a for a, _ in both].count("record_session") == 1


def test_ring_group_records_only_the_leg_of_a_member_with_the_option():
    plan = plan_from_carrier(snap({"103"}), "0312345678", "09011112222", NOW, national="0312345678")
    (dial,) = [d for a, d in actions(plan) if a == "bridge"]
    legs = dial.split(",[")  # a leg's [variables] hold commas of their own
    assert legs[0].split(",")[0] == "user/102@acme.kumo.test"  # no variables: 102 is never recorded
    member_103 = legs[1].split("]", 1)[1].split(",")[0]
    assert (
        "execute_on_answer=record_session ${kumo_recordings_dir}/acme.kumo.test/2026/12/01/${uuid}-103.wav"
        in dial
    )
    assert member_103 == "user/103@acme.kumo.test"
    render(plan)  # accepted by the renderer


def test_tenant_paths_never_leave_the_tenant_root(tmp_path):
    root = tmp_path / "rec"
    assert (
        tenant_file(root, "acme.kumo.test", "2026/12/01/x.wav")
        == (root / "acme.kumo.test/2026/12/01/x.wav").resolve()
    )
    for domain, path in [
        ("acme.kumo.test", "../beta.kumo.test/2026/12/01/x.wav"),
        ("acme.kumo.test", str(root / "beta.kumo.test" / "x.wav")),
        ("../etc", "passwd"),
        ("acme.kumo.test/..", "x.wav"),
        ("acme.kumo.test", "/etc/passwd"),
    ]:
        with pytest.raises(StorageError):
            tenant_file(root, domain, path)
    (root / "acme.kumo.test").mkdir(parents=True)
    (root / "beta.kumo.test").mkdir()
    os.symlink(root / "beta.kumo.test", root / "acme.kumo.test" / "sneaky")
    with pytest.raises(StorageError):
        tenant_file(root, "acme.kumo.test", "sneaky/x.wav")


def record_stop(fixtures_dir, path: str, **extra: str) -> dict[str, str]:
    """The captured RECORD_STOP, made into one of kumo's (synthetic: path and kumo_* variables rewritten)."""
    stream = gzip.open(fixtures_dir / "esl" / "inbound-plain-voicemail.log.gz").read()
    event = next(e for e in iter_events(stream) if e.get("Event-Name") == "RECORD_STOP")
    return dict(
        event,
        **{
            "Record-File-Path": path,
            "variable_kumo_record_user": "1001",
            "variable_kumo_record_direction": "internal",
        },
        **extra,
    )


def test_record_stop_indexed_once_with_metadata(make_tenant, session_factory, fixtures_dir, tmp_path):
    make_tenant()
    root = tmp_path / "rec"
    path = root / "acme.kumo.test" / "2026" / "11" / "25" / f"{UUID}.wav"
    handler = RecordingEventHandler(session_factory, MediaSettings(recordings_root=str(root)))
    stream = gzip.open(fixtures_dir / "esl" / "inbound-json-voicemail.log.gz").read()
    for event in iter_events(stream):  # mod_voicemail's own RECORD_STOP is not a call recording
        handler.handle(event)
    event = record_stop(fixtures_dir, str(path))
    handler.handle(event)
    handler.handle(event)
    handler.handle(
        record_stop(fixtures_dir, str(root / "beta.kumo.test/2026/11/25/x1234567.wav"))
    )  # no tenant
    handler.handle(record_stop(fixtures_dir, str(root / "acme.kumo.test/../../escape/12345678.wav")))
    empty = {"variable_record_file_size": "0", "variable_record_seconds": "0", "variable_record_ms": "0"}
    handler.handle(record_stop(fixtures_dir, str(path.with_name("never-bridged.wav")), **empty))
    with session_factory() as session:
        (row,) = session.scalars(select(models.CallRecording)).all()
    assert (row.call_uuid, row.caller, row.callee, row.direction) == (UUID, "1001", "4000", "internal")
    assert (row.duration_seconds, row.file_size, row.user_extension) == (4, 64238, "1001")
    stopped = int(event["Event-Date-Timestamp"]) / 1e6
    assert row.started_at.replace(tzinfo=dt.UTC).timestamp() == pytest.approx(stopped - 4)


def test_purge_keeps_each_tenant_for_its_retention(make_tenant, session_factory, tmp_path):
    make_tenant()
    make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[], park=None)
    root = tmp_path / "rec"
    settings = MediaSettings(recordings_root=str(root), default_retention_days=90)
    with db.session_scope(session_factory) as session:
        set_retention(session, "acme.kumo.test", 30)
        tenants = dict(session.execute(select(models.Tenant.domain, models.Tenant.id)).all())
        for domain, age in [("acme.kumo.test", 40), ("acme.kumo.test", 10), ("beta.kumo.test", 40)]:
            started = NOW - dt.timedelta(days=age)
            path = root / domain / f"{started:%Y/%m/%d}" / f"call-{age:04d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF")
            session.add(
                models.CallRecording(
                    tenant_id=tenants[domain],
                    call_uuid=f"u{age}",
                    started_at=started,
                    file_path=str(path),
                    file_size=4,
                )
            )
    with db.session_scope(session_factory) as session:
        result = purge(session, settings, NOW)
    assert (result.rows, result.files) == (1, 1)
    with session_factory() as session:
        left = sorted((r.call_uuid, r.tenant_id) for r in session.scalars(select(models.CallRecording)))
    assert left == [("u10", tenants["acme.kumo.test"]), ("u40", tenants["beta.kumo.test"])]
    assert sorted(p.name for p in root.rglob("*.wav")) == ["call-0010.wav", "call-0040.wav"]


def test_retention_cli(make_tenant, database_url, capsys, tmp_path):
    from fsctl.cli import main

    make_tenant()
    assert main(["--database-url", database_url, "recordings", "retention", "acme.kumo.test", "7"]) == 0
    assert main(["--database-url", database_url, "recordings", "retention", "nobody.test", "7"]) == 1
    assert (
        main(["--database-url", database_url, "recordings", "purge", "--recordings-dir", str(tmp_path)]) == 0
    )
    assert "purged 0 recordings" in capsys.readouterr().out


def test_a_recording_is_only_reachable_through_its_own_tenant(make_tenant, session_factory, tmp_path):
    from fsctl.media.recordings import recording_file

    make_tenant()
    make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[], park=None)
    root = tmp_path / "rec"
    settings = MediaSettings(recordings_root=str(root))
    path = root / "acme.kumo.test" / "2026" / "11" / "25" / f"{UUID}.wav"
    with db.session_scope(session_factory) as session:
        acme = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == "acme.kumo.test"))
        row = models.CallRecording(tenant_id=acme, call_uuid=UUID, started_at=NOW, file_path=str(path))
        bad = models.CallRecording(tenant_id=acme, call_uuid="x", started_at=NOW, file_path="/etc/passwd")
        session.add_all([row, bad])
        session.flush()
        ids = row.id, bad.id
    with session_factory() as session:
        assert recording_file(session, settings, "acme.kumo.test", ids[0]) == path.resolve()
        with pytest.raises(LookupError):
            recording_file(session, settings, "beta.kumo.test", ids[0])
        with pytest.raises(LookupError):
            recording_file(session, settings, "acme.kumo.test", ids[1])
