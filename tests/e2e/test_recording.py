"""A recorded user's call leaves a non-empty file and kumo's index row."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from e2e.esl import event_is
from e2e.tenants import TENANTS, Tenant


@pytest.fixture(scope="module")
def studio(e2e) -> Tenant:
    doc = {
        "domain": "rec.e2e.test",
        "name": "Rec E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [
            {"extension": "101", "name": "Recorded", "password": "E2e-rec-101-pass", "recording": True},
            {"extension": "102", "name": "Plain", "password": "E2e-rec-102-pass"},
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _recordings(e2e, domain: str) -> list:
    return e2e.kumo.rows(
        "SELECT r.call_uuid, r.user_extension, r.duration_seconds, r.file_path FROM call_recordings r "
        "JOIN tenants t ON t.id = r.tenant_id WHERE t.domain = :d",
        d=domain,
    )


def test_recorded_users_call_leaves_a_file_and_an_index_row(e2e, studio: Tenant) -> None:
    callee = e2e.registered_phone(studio.domain, "102")
    mark = e2e.events.mark()
    answering = callee.answer()
    call = e2e.phone(studio.domain, "101").call("102", talk_ms=2500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    stop = e2e.events.wait_for(event_is("RECORD_STOP"), since=mark, what="recording ends")
    path = Path(stop["Record-File-Path"])
    assert path.is_relative_to(e2e.workdir / "recordings" / studio.domain)
    with wave.open(str(path)) as w:
        # Both phones stream a tone the whole call: seconds of audio, not an empty header.
        assert w.getnframes() / w.getframerate() >= 1.5
    rows = e2e.wait_until(lambda: _recordings(e2e, studio.domain), what="call_recordings row")
    assert rows[0].user_extension == "101" and rows[0].call_uuid
    assert Path(rows[0].file_path) == path or rows[0].file_path.endswith(path.name)
