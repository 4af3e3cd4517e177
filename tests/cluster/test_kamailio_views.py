"""The views Kamailio reads (migration 29e01016cc62), on the migrated schema of SQLite and PostgreSQL:
each returns exactly the placed tenants' rows, in the forms a request can carry."""

from __future__ import annotations

import time

import pytest
from gateways.gw_helpers import gateway_doc
from kumo_support import tenant_doc
from sqlalchemy import text

from fsctl import cluster, db, migrate, models
from fsctl.cli import main
from fsctl.db import make_engine
from fsctl.inventory import add_numbers
from fsctl.numbers import to_national
from fsctl.wiring import tenant_file

BETA = {
    "domain": "beta.kumo.test",
    "name": "ベータ",
    "users": [{"extension": "201", "name": "Beta 201", "password": "Str0ng-201-pass"}],
    "numbers": [{"number": "05012340000", "destination": {"user": "201"}}],
    "ring_groups": [],
    "park": None,
}


@pytest.fixture
def migrated(database_url):
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine, db.make_session_factory(engine)
    engine.dispose()


def _rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def _cluster(factory, *, unplaced: bool = False) -> None:
    """Node a and b; acme (with its gateways) on a, beta on b; optionally a tenant on no node."""
    with db.session_scope(factory) as session:
        if unplaced:
            tenant_file().apply(
                session, tenant_doc(domain="solo.kumo.test", numbers=[], users=[], ring_groups=[], park=None)
            )
        cluster.add_node(session, "node-a", "127.0.0.2:5060", "127.0.0.2:5080", "127.0.0.2:8021")
        cluster.add_node(session, "node-b", "127.0.0.3:5060", "127.0.0.3:5080")
        tenant_file().apply(session, gateway_doc())
        tenant_file().apply(session, tenant_doc(**BETA))


def test_domain_routes_name_each_placed_tenants_node(migrated):
    engine, factory = migrated
    _cluster(factory, unplaced=True)
    rows = _rows(engine, "SELECT domain, node, sip_uri FROM kamailio_domain_routes ORDER BY domain")
    assert rows == [
        ("acme.kumo.test", "node-a", "sip:127.0.0.2:5060"),
        ("beta.kumo.test", "node-b", "sip:127.0.0.3:5060"),
    ]
    # Kamailio's lookup: one row for the domain, none for a tenant on no node.
    one = "SELECT sip_uri FROM kamailio_domain_routes WHERE domain = :d"
    assert _rows(engine, one, d="beta.kumo.test") == [("sip:127.0.0.3:5060",)]
    assert _rows(engine, one, d="solo.kumo.test") == []


@pytest.mark.parametrize(
    ("presented", "node"),
    [
        ("+81312345678", "node-a"),  # what the dialplan bridges to sofia/gateway/carrier/<E.164>
        ("81312345678", "node-a"),  # E.164 without the plus, as some carriers send it
        ("0312345678", "node-a"),  # national
        ("0312345001", "node-a"),  # a user's DID
        ("+815012340000", "node-b"),
        ("815012340000", "node-b"),
        ("05012340000", "node-b"),
    ],
)
def test_number_routes_match_every_form_a_carrier_or_node_presents(migrated, presented, node):
    engine, factory = migrated
    _cluster(factory)
    rows = _rows(
        engine, "SELECT node, carrier_uri FROM kamailio_number_routes WHERE number = :n", n=presented
    )
    port_host = {"node-a": "127.0.0.2", "node-b": "127.0.0.3"}[node]
    assert rows == [(node, f"sip:{port_host}:5080")]
    # The same number the dialplan's carrier lookup finds (fsctl.numbers.to_national).
    assert to_national(presented) in {"0312345678", "0312345001", "05012340000"}


def test_number_routes_hold_exactly_three_forms_of_placed_tenants_numbers(migrated):
    engine, factory = migrated
    _cluster(factory)
    add_numbers(factory, "0399990000")  # a free number: on no tenant, so not routed
    rows = _rows(engine, "SELECT number, node FROM kamailio_number_routes ORDER BY number")
    assert sorted(rows) == sorted(
        (form, node)
        for national, node in (("0312345678", "node-a"), ("0312345001", "node-a"), ("05012340000", "node-b"))
        for form in (national, "+81" + national[1:], "81" + national[1:])
    )
    # Customer gateways' own numbers come from the gateway, never from the platform's carrier.
    assert not any(number.endswith("5550100") for number, _ in rows)


def test_gateway_routes_hold_static_gateways_by_their_address(migrated):
    engine, factory = migrated
    _cluster(factory)
    rows = _rows(engine, "SELECT address, node, carrier_uri, cidr FROM kamailio_gateway_routes")
    # osaka is static (203.0.113.10 in 203.0.113.8/29); honsha registers, so it routes by domain.
    assert rows == [("203.0.113.10", "node-a", "sip:127.0.0.2:5080", "203.0.113.8/29")]


def test_dispatcher_lists_both_profiles_of_every_node(migrated):
    engine, factory = migrated
    _cluster(factory)
    with db.session_scope(factory) as session:
        cluster.set_state(session, "node-b", cluster.models.NodeState.DRAINING)
    rows = _rows(
        engine,
        "SELECT id, setid, destination, flags, priority, attrs, description FROM kamailio_dispatcher"
        " ORDER BY setid, id",
    )
    assert [row[1:6] for row in rows] == [
        (1, "sip:127.0.0.2:5060", 0, 0, "node=node-a"),
        (1, "sip:127.0.0.3:5060", 0, 0, "node=node-b"),
        (2, "sip:127.0.0.2:5080", 0, 0, "node=node-a"),
        (2, "sip:127.0.0.3:5080", 0, 0, "node=node-b"),
    ]
    assert len({row[0] for row in rows}) == 4  # the dispatcher's id is unique


def test_a_move_is_what_the_next_query_sees_and_no_node_means_no_rows(migrated):
    engine, factory = migrated
    _cluster(factory)
    with db.session_scope(factory) as session:
        cluster.move_tenant(session, "acme.kumo.test", "node-b")
    assert _rows(engine, "SELECT node FROM kamailio_domain_routes WHERE domain = 'acme.kumo.test'") == [
        ("node-b",)
    ]
    assert _rows(engine, "SELECT node FROM kamailio_number_routes WHERE number = '81312345678'") == [
        ("node-b",)
    ]
    with db.session_scope(factory) as session:
        cluster.move_tenant(session, "beta.kumo.test", "node-b")
        session.execute(text("UPDATE tenants SET node_id = NULL"))
    for view in ("kamailio_domain_routes", "kamailio_number_routes", "kamailio_gateway_routes"):
        assert _rows(engine, f"SELECT * FROM {view}") == []


def test_kamailio_lookups_are_index_searches(migrated):
    """Each lookup Kamailio makes per initial request is an index search in every branch of its view,
    never a read of every number (PostgreSQL needs the branches' types equal to push it down)."""
    engine, factory = migrated
    _cluster(factory)
    # What each branch's index search shows: PostgreSQL names the index, SQLite names a unique
    # constraint's index sqlite_autoindex_* and shows the searched column.
    lookups = {
        "SELECT node, carrier_uri FROM kamailio_number_routes WHERE number = '81312345678'": (
            ("uq_numbers_e164", "(e164=?)"),
            ("ix_numbers_e164_without_plus", "ix_numbers_e164_without_plus (<expr>=?)"),
            ("uq_numbers_national", "(national=?)"),
        ),
        "SELECT node, sip_uri FROM kamailio_domain_routes WHERE domain = 'acme.kumo.test'": (
            ("uq_tenants_domain", "(domain=?)"),
        ),
        "SELECT node, carrier_uri FROM kamailio_gateway_routes WHERE address = '203.0.113.10'": (
            ("ix_gateways_address", "ix_gateways_address (address=?)"),
        ),
    }
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SET enable_seqscan = off"))  # a handful of rows: ask what it could do
        for query, indexes in lookups.items():
            if postgres:
                plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {query}")))
                searched = [line for line in plan.splitlines() if "Index Scan" in line]
                assert "Rows Removed" not in plan and "Filter: ((kamailio" not in plan, plan
            else:
                plan = "\n".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
                searched = [
                    line for line in plan.splitlines() if line.startswith("SEARCH") and "INDEX" in line
                ]
            for shown in indexes:
                assert any(shown[0 if postgres else 1] in line for line in searched), plan


def _ip_ban_until(engine, ip: str, now: int) -> list[tuple]:
    """Until when the view bans `ip` at `now` (Kamailio's lookup, route BANNED, asks the same rows)."""
    return _rows(
        engine, "SELECT until FROM kamailio_bans WHERE ip = :ip AND until > :now LIMIT 1", ip=ip, now=now
    )


def test_bans_view_holds_active_ip_wide_bans_added_by_fsctl(migrated, database_url, capsys):
    engine, factory = migrated
    code = main(["--database-url", database_url, "bans", "add", "192.0.2.66", "--seconds", "600"])
    out, _ = capsys.readouterr()
    assert code == 0 and "every user from 192.0.2.66" in out
    with db.session_scope(factory) as session:
        # a pair ban is the node directory's business: not in the view
        session.add(
            models.Ban(ip="192.0.2.77", domain="acme.kumo.test", username="101", created_at=0, until=10**10)
        )
    now = int(time.time())
    (until,) = _ip_ban_until(engine, "192.0.2.66", now)[0]
    assert now + 590 <= until <= now + 610
    assert _ip_ban_until(engine, "192.0.2.66", until) == []  # expired: no row, no job needed
    assert _ip_ban_until(engine, "192.0.2.77", now) == []
    # lifted: gone from the view at once
    assert main(["--database-url", database_url, "bans", "lift", "--ip", "192.0.2.66"]) == 0
    assert _ip_ban_until(engine, "192.0.2.66", now) == []


@pytest.mark.parametrize(
    ("argv", "named"),
    [(["not-an-ip"], "ip: 'not-an-ip'"), (["192.0.2.1", "--seconds", "0"], "seconds: a ban lasts at least")],
)
def test_bans_add_names_the_bad_argument(migrated, database_url, capsys, argv, named):
    assert main(["--database-url", database_url, "bans", "add", *argv]) == 2
    assert named in capsys.readouterr().err
    assert _rows(migrated[0], "SELECT count(*) FROM security_bans") == [(0,)]


def test_the_bans_lookup_is_an_index_search(migrated):
    engine, factory = migrated
    with db.session_scope(factory) as session:
        for n in range(50):
            session.add(models.Ban(ip=f"198.51.100.{n}", domain="", username="", created_at=0, until=10**10))
    # Kamailio's query (kamailio.cfg, route BANNED)
    query = "SELECT ip FROM kamailio_bans WHERE ip = '198.51.100.7' AND until > 1800000000 LIMIT 1"
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {query}")))
            assert "Index Scan using uq_security_bans_subject" in plan, plan
            assert (
                "Index Cond: (((ip)::text = '198.51.100.7'::text) AND ((domain)::text = ''::text)" in plan
            ), plan
        else:
            plan = "\n".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            assert (
                "SEARCH security_bans USING INDEX sqlite_autoindex_security_bans_1 (ip=? AND domain=? AND username=?)"
                in plan
            ), plan
