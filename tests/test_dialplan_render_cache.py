"""Rendered dialplan answers are kept per everything the renderer reads: the same number in the same
schedule state is rendered once, and a cached answer is never another state's, version's or caller's."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from fsctl import db
from fsctl.wiring import tenant_file
from fsctl.xml.dialplan import render
from fsctl.xmlcurl import dialplan
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

OPEN = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Tokyo
CLOSED = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # Tuesday 21:00 in Tokyo
OFFICE = {
    "name": "office",
    "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
    "open_destination": {"ring_group": "reception"},
    "closed_destination": {"voicemail": "101"},
}
NUMBERS = [{"number": "0312345678", "destination": {"schedule": "office"}}]


def carrier_call(fixtures_dir, caller: str = "anonymous") -> dict[str, str]:
    """The captured carrier call (context public), to the tenant's number, from `caller` (synthetic)."""
    body = (fixtures_dir / "xml_curl" / "dialplan-loopback-public-9196.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields["Hunt-Destination-Number"] = fields["Caller-Destination-Number"] = "0312345678"
    fields["Caller-Caller-ID-Number"] = caller
    return fields


@pytest.fixture
def counted(monkeypatch):
    renders: list[str] = []

    def counting(plan):
        renders.append(plan.dialled)
        return render(plan)

    monkeypatch.setattr(dialplan, "render", counting)
    return renders


@pytest.fixture
def clock():
    return {"now": OPEN}


@pytest.fixture
def responder(engine, settings, clock):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: clock["now"])
    store.reset()


def test_the_same_number_in_the_same_state_is_rendered_once(make_tenant, responder, counted, fixtures_dir):
    make_tenant(schedules=[OFFICE], numbers=NUMBERS)
    first = responder.answer(carrier_call(fixtures_dir))
    assert b"bridge" in first
    assert [responder.answer(carrier_call(fixtures_dir)) for _ in range(3)] == [first] * 3
    assert counted == ["0312345678"]


def test_another_schedule_state_or_version_gets_its_own_answer(
    make_tenant, responder, clock, session_factory, fixtures_dir
):
    from kumo_support import tenant_doc

    make_tenant(schedules=[OFFICE], numbers=NUMBERS)
    opened = responder.answer(carrier_call(fixtures_dir))
    clock["now"] = CLOSED
    closed = responder.answer(carrier_call(fixtures_dir))
    assert b"voicemail" in closed and b"voicemail" not in opened
    clock["now"] = OPEN
    assert responder.answer(carrier_call(fixtures_dir)) == opened
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(schedules=[OFFICE], numbers=NUMBERS, status="suspended"))
    assert b"CALL_REJECTED" in responder.answer(carrier_call(fixtures_dir))


def test_an_answer_with_the_callers_number_is_never_another_callers(make_tenant, responder, fixtures_dir):
    make_tenant(schedules=[OFFICE], numbers=NUMBERS)
    one = responder.answer(carrier_call(fixtures_dir, "+819011112222"))
    other = responder.answer(carrier_call(fixtures_dir, "+819033334444"))
    assert b"effective_caller_id_number=09011112222" in one
    assert b"effective_caller_id_number=09033334444" in other and b"09011112222" not in other


def test_an_override_decides_the_cached_answer_and_ends_at_its_until_with_nothing_saved(
    make_tenant, responder, clock, session_factory, fixtures_dir
):
    until = OPEN + dt.timedelta(hours=1)  # Tuesday 11:00 in Tokyo
    override = {"mode": "closed", "until": until.isoformat()}
    make_tenant(schedules=[{**OFFICE, "override": override}], numbers=NUMBERS)
    with db.session_scope(session_factory) as session:
        version = db.tenant_by_domain(session, "acme.kumo.test").config_version
    closed = responder.answer(carrier_call(fixtures_dir))  # 10:00, open hours: 臨時休業
    assert b"voicemail" in closed
    clock["now"] = until - dt.timedelta(seconds=1)
    assert responder.answer(carrier_call(fixtures_dir)) == closed
    clock["now"] = until  # the very moment it ends: the regular hours decide, from the cache too
    opened = responder.answer(carrier_call(fixtures_dir))
    assert b"bridge" in opened and b"voicemail" not in opened
    with db.session_scope(session_factory) as session:
        assert db.tenant_by_domain(session, "acme.kumo.test").config_version == version


def test_a_warmed_worker_answers_its_first_call_without_loading_the_tenant(
    make_tenant, responder, fixtures_dir, monkeypatch
):
    """DialplanResponder.warm, run when a worker starts: every tenant's snapshot is loaded, so the
    first carrier call to each costs no load."""
    from fsctl import snapshots as snapshot_module

    make_tenant(schedules=[OFFICE], numbers=NUMBERS)
    loads: list[int] = []
    real = snapshot_module.load_snapshot_rows

    def counting(fetch_all, tenant_id, parts, **kwargs):
        loads.append(tenant_id)
        return real(fetch_all, tenant_id, parts, **kwargs)

    monkeypatch.setattr(snapshot_module, "load_snapshot_rows", counting)
    pauses: list[int] = []
    assert responder.warm_state == "cold"
    assert responder.warm(lambda: pauses.append(1)) == 1
    assert responder.warm_state == "warm" and len(loads) == 1 and pauses == [1]
    assert b"bridge" in responder.answer(carrier_call(fixtures_dir))
    assert len(loads) == 1  # the call found the warmed snapshot


def test_warm_snapshots_and_answers_are_freed_without_the_cyclic_collector(
    make_tenant, responder, fixtures_dir
):
    """Workers exempt their warmed snapshots from the cyclic garbage collector (gc.freeze, see
    fsctl.service.freeze_long_lived): a snapshot replaced after a change must then be freed by
    reference counting alone, so neither a snapshot nor a rendered answer may hold a reference cycle
    (each would be kept for the life of the worker)."""
    import gc

    make_tenant(schedules=[OFFICE], numbers=NUMBERS)
    gc.collect()
    gc.disable()
    try:
        assert responder.warm() == 1
        assert b"bridge" in responder.answer(carrier_call(fixtures_dir))
        assert b"bridge" in responder.answer(carrier_call(fixtures_dir, caller="0901234567"))
        assert len(responder.snapshots.cache) == 1 and len(responder.rendered) >= 1
        responder.snapshots.cache.clear()
        responder.rendered.clear()
        assert gc.collect() == 0  # nothing was left for the cyclic collector to find
    finally:
        gc.enable()
