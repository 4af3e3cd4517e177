"""One snapshot loader: the lookups (lookup store's connection), `fsctl trace` and CDR classification
(an ORM session's connection) read the same snapshot, cached once per (tenant, config_version)."""

from __future__ import annotations

from kumo_support import tenant_doc
from planners import load_snapshot, load_snapshot_rows

from fsctl import db
from fsctl.snapshots import session_rows
from fsctl.wiring import snapshots, tenant_file
from fsctl.xmlcurl.store import LookupStore


def test_the_lookup_store_and_a_session_read_the_same_full_tenant(engine, session_factory):
    doc = tenant_doc(allowed_prefixes=["0570"], trial_started_on="2026-11-01")
    doc["users"][0]["forward"] = {
        "busy": {"voicemail": "101"},
        "no_answer": {"external": "0901234567"},
        "unregistered": {"ring_group": "reception"},
        "no_answer_seconds": 15,
    }
    doc["users"][1]["schedule"] = "night"
    doc["schedules"] = [
        {
            "name": "business",
            "open": [{"days": ["mon", "fri"], "from": "09:00", "to": "18:00"}],
            "closures": [{"from": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}],
            "holidays_closed": False,
            "closed_announcement": "after.wav",
            "open_destination": {"ring_group": "reception"},
            "closed_destination": {"voicemail": "101"},
        },
        {"name": "night", "open": [{"days": ["sat"], "from": "22:00", "to": "06:00"}]},
    ]
    doc["ivr_menus"] = [
        {
            "name": "main",
            "greeting": "g.wav",
            "options": {"1": {"ring_group": "reception"}, "#": {"hangup": True}},
            "timeout_destination": {"schedule": "business"},
        }
    ]
    doc["ring_groups"] = [
        {
            "name": "reception",
            "members": ["102", "101"],
            "strategy": "sequential",
            "no_answer": {"ivr": "main"},
        }
    ]
    doc["numbers"] = [{"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
        tenant_file().apply(
            session, tenant_doc(domain="beta.kumo.test", users=[], ring_groups=[], numbers=[], park=None)
        )
    with session_factory() as session:
        orm = load_snapshot(session, domain="acme.kumo.test")
    raw = load_snapshot_rows(LookupStore(engine=engine).fetch_all, orm.id)
    assert raw == orm
    assert raw.ring_groups["reception"].members == ("102", "101")
    assert raw.users["101"].forward_unregistered.kind == "ring_group"
    assert load_snapshot_rows(LookupStore(engine=engine).fetch_all, 999_999) is None


def test_snapshots_are_cached_per_tenant_and_config_version(engine, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc())
    store = LookupStore(engine=engine)
    queries: list[str] = []

    def counted(sql, params=()):
        queries.append(sql)
        return store.fetch_all(sql, params)

    loader = snapshots()
    first = loader.by_domain(counted, "acme.kumo.test")
    loaded = len(queries)
    assert loader.by_domain(counted, "acme.kumo.test") is first
    assert len(queries) == loaded + 1  # only the (id, config_version) row
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(allowed_prefixes=["0570"]))
    second = loader.by_domain(counted, "acme.kumo.test")
    assert second.config_version > first.config_version and second.allowed_prefixes == ("0570",)
    with session_factory() as session:
        assert loader.by_id(session_rows(session), first.id) is second
    assert loader.by_number(counted, "0312345678") is second
    assert loader.by_domain(counted, "nobody.kumo.test") is None
    store.reset()
