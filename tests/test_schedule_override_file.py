"""The override in the tenant file (apply / export), its stored state and version, and the service's
writer of the override dialled from a phone (fsctl.esl.override)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml
from kumo_support import tenant_doc

from fsctl import db, models
from fsctl.esl.events import make_event
from fsctl.esl.override import ScheduleOverrides
from fsctl.snapshots import session_rows
from fsctl.tenant_file import ConfigError
from fsctl.wiring import snapshots, tenant_file

JST = ZoneInfo("Asia/Tokyo")


def _hours(**extra) -> dict:
    return {
        "name": "hours",
        "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
        "open_destination": {"ring_group": "reception"},
        "closed_destination": {"voicemail": "101"},
        **extra,
    }


def _doc(**extra) -> dict:
    return tenant_doc(schedules=[_hours(**extra)])


def _schedule(session) -> models.Schedule:
    return db.tenant_by_domain(session, "acme.kumo.test").schedules[0]


def _version(session) -> int:
    return db.tenant_by_domain(session, "acme.kumo.test").config_version


def test_apply_stores_the_override_in_utc_and_export_writes_it_back(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc(override={"mode": "closed", "until": "2026-12-07T18:00:00+09:00"}))
    with db.session_scope(session_factory) as session:
        schedule = _schedule(session)
        assert schedule.override_mode == "closed"
        until = schedule.override_until.replace(tzinfo=schedule.override_until.tzinfo or dt.UTC)
        assert until == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
    assert exported["schedules"][0]["override"] == {"mode": "closed", "until": "2026-12-07T18:00:00+09:00"}
    # Export then apply changes nothing (the version stays).
    with db.session_scope(session_factory) as session:
        before = _version(session)
        result = tenant_file().apply(session, yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True)))
        assert result.changed is False
    with db.session_scope(session_factory) as session:
        assert _version(session) == before


def test_setting_and_clearing_it_bumps_the_config_version_and_routing_reads_it(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
    with db.session_scope(session_factory) as session:
        before = _version(session)
        assert tenant_file().apply(session, _doc(override={"mode": "open"})).changed
    with db.session_scope(session_factory) as session:
        assert _version(session) == before + 1
        snap = snapshots().by_domain(session_rows(session), "acme.kumo.test")
        assert (
            snap.schedules["hours"].override.mode == "open" and snap.schedules["hours"].override.until is None
        )
    with db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, _doc()).changed  # the file no longer names it: cleared
    with db.session_scope(session_factory) as session:
        assert _schedule(session).override_mode is None
        assert _version(session) == before + 2
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
        assert "override" not in exported["schedules"][0]


@pytest.mark.parametrize(
    ("override", "path", "code"),
    [
        (
            {"mode": "closed", "until": "2026-12-07T18:00"},
            ("schedules", 0, "override", "until"),
            "no_utc_offset",
        ),
        ({"mode": "closed", "until": "tomorrow"}, ("schedules", 0, "override", "until"), "not_datetime"),
        ({"mode": "shut"}, ("schedules", 0, "override", "mode"), ""),
        ({"until": "2026-12-07T18:00+09:00"}, ("schedules", 0, "override", "mode"), ""),
    ],
)
def test_a_bad_override_is_refused_naming_the_field(session_factory, override, path, code):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, _doc(override=override))
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]


def _event(tenant_id: int, context: str, mode: str = "closed", schedule: str = "hours", by: str = "101"):
    return make_event(
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "kumo::schedule_override",
            "kumo_tenant": str(tenant_id),
            "kumo_schedule": schedule,
            "kumo_override": mode,
            "kumo_by": by,
            "Caller-Context": context,
        }
    )  # synthetic: the headers mod_dptools' `event` sets plus the channel data it adds


def test_the_phone_code_event_writes_the_override_until_the_next_regular_change(engine, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
        tenant_id = db.tenant_by_domain(session, "acme.kumo.test").id
        before = _version(session)
    monday_2pm = dt.datetime(2026, 12, 7, 14, 0, tzinfo=JST)
    handler = ScheduleOverrides(engine, clock=lambda: monday_2pm)
    assert handler.events == ("kumo::schedule_override",)
    handler.handle(_event(tenant_id, "acme.kumo.test"))
    with db.session_scope(session_factory) as session:
        schedule = _schedule(session)
        until = schedule.override_until.replace(tzinfo=schedule.override_until.tzinfo or dt.UTC)
        assert (schedule.override_mode, until) == ("closed", dt.datetime(2026, 12, 7, 18, 0, tzinfo=JST))
        assert _version(session) == before + 1
        audit = session.query(models.AuditEntry).filter_by(action="schedule.override").one()
        assert audit.actor == "phone:101@acme.kumo.test"
    handler.handle(_event(tenant_id, "acme.kumo.test", mode="none"))
    with db.session_scope(session_factory) as session:
        assert _schedule(session).override_mode is None and _schedule(session).override_until is None


def test_an_event_from_another_tenants_context_changes_nothing(engine, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, _doc())
        tenant_id = db.tenant_by_domain(session, "acme.kumo.test").id
        before = _version(session)
    handler = ScheduleOverrides(engine)
    handler.handle(_event(tenant_id, "other.kumo.test"))
    handler.handle(_event(tenant_id, "acme.kumo.test", schedule="nope"))
    handler.handle(_event(tenant_id, "acme.kumo.test", mode="${system(reboot)}"))
    with db.session_scope(session_factory) as session:
        assert _schedule(session).override_mode is None
        assert _version(session) == before


def test_the_service_subscribes_to_the_override_event(engine):
    from fsctl.esl.inbound import subscription_command
    from fsctl.esl.wiring import build_dispatcher

    words = subscription_command(build_dispatcher(engine), "json").split()
    assert "kumo::schedule_override" in words and "kumo::snapshot" not in words
