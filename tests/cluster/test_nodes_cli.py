"""`fsctl nodes` and tenant placement: new tenants go to the active node with the fewest tenants,
the operator moves and drains, the tenant file never shows or changes a tenant's node."""

from __future__ import annotations

import json

import pytest
from kumo_support import tenant_doc
from sqlalchemy import select

from fsctl import db, models
from fsctl.cli import main
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file


def _tenant(n: int) -> dict:
    return tenant_doc(domain=f"t{n}.kumo.test", numbers=[], users=[], ring_groups=[], park=None)


@pytest.fixture
def nodes(database_url, engine, capsys):
    """Run `fsctl nodes ...` against the test database: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--database-url", database_url, "nodes", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _placement(session_factory) -> dict[str, str | None]:
    with session_factory() as session:
        rows = session.execute(
            select(models.Tenant.domain, models.SwitchNode.name)
            .outerjoin(models.SwitchNode, models.SwitchNode.id == models.Tenant.node_id)
            .order_by(models.Tenant.domain)
        )
        return {domain: node for domain, node in rows}


def _apply(session_factory, doc: dict):
    with db.session_scope(session_factory) as session:
        return tenant_file().apply(session, doc)


def test_without_nodes_a_tenant_is_on_no_node_as_before(session_factory, nodes):
    _apply(session_factory, _tenant(1))
    assert _placement(session_factory) == {"t1.kumo.test": None}
    code, out, _ = nodes("list")
    assert code == 0 and "no nodes: kumo is a single switch" in out
    assert nodes("list", "--json")[:2] == (0, "[]\n")


@pytest.mark.parametrize(
    ("argv", "argument", "says"),
    [
        (("Node-A", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080"), "NAME", "not a node name"),
        (("node_a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080"), "NAME", "not a node name"),
        (("a" * 64, "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080"), "NAME", "at most 63"),
        (("a", "--sip", "10.0.0.2", "--carrier", "10.0.0.2:5080"), "--sip", "not host:port"),
        (("a", "--sip", "10.0.0.2:70000", "--carrier", "10.0.0.2:5080"), "--sip", "not host:port"),
        (("a", "--sip", "10.0.0.2:5060", "--carrier", "bad host:5080"), "--carrier", "not an IP address"),
        (("a", "--sip", "10.0.0.2:5060", "--carrier", "::1:5080"), "--carrier", "[address]:port"),
        (("a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5060"), "--carrier", "its own host:port"),
        (("a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080", "--esl", "x"), "--esl", "host:port"),
    ],
)
def test_add_refuses_bad_arguments_naming_them(nodes, argv, argument, says):
    code, out, err = nodes("add", *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"fsctl nodes add: {argument}: ") and says in err
    assert nodes("list", "--json")[1] == "[]\n"


def test_add_refuses_a_duplicate_name_or_address(nodes):
    assert nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")[0] == 0
    code, _, err = nodes("add", "node-a", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    assert code == 2 and "NAME: a node named 'node-a' exists already" in err
    code, _, err = nodes("add", "node-b", "--sip", "10.0.0.2:5080", "--carrier", "10.0.0.3:5080")
    assert code == 2 and "--sip: 10.0.0.2:5080 is already a profile of node 'node-a'" in err


def test_list_shows_state_addresses_and_tenants(session_factory, nodes):
    code, out, _ = nodes(
        "add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080", "--esl", "10.0.0.2:8021"
    )
    assert code == 0 and out == "node-a: added, active (internal 10.0.0.2:5060, carrier 10.0.0.2:5080)\n"
    nodes("add", "node-b", "--sip", "[fd00::3]:5060", "--carrier", "switch-b.example.net:5080")
    for n in range(3):
        _apply(session_factory, _tenant(n))
    code, out, _ = nodes("list")
    assert out.splitlines() == [
        "NAME    STATE   INTERNAL        CARRIER                    ESL            TENANTS",
        "node-a  active  10.0.0.2:5060   10.0.0.2:5080              10.0.0.2:8021  2",
        "node-b  active  [fd00::3]:5060  switch-b.example.net:5080  -              1",
    ]
    code, out, _ = nodes("list", "--json")
    assert json.loads(out) == [
        {
            "name": "node-a",
            "state": "active",
            "sip_address": "10.0.0.2:5060",
            "carrier_address": "10.0.0.2:5080",
            "esl_address": "10.0.0.2:8021",
            "tenants": 2,
        },
        {
            "name": "node-b",
            "state": "active",
            "sip_address": "[fd00::3]:5060",
            "carrier_address": "switch-b.example.net:5080",
            "esl_address": "",
            "tenants": 1,
        },
    ]


def test_new_tenants_go_to_the_active_node_with_the_fewest_tenants(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    nodes("add", "node-b", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    for n in range(3):  # a tie goes to the lower id: a, b, a
        _apply(session_factory, _tenant(n))
    assert _placement(session_factory) == {
        "t0.kumo.test": "node-a",
        "t1.kumo.test": "node-b",
        "t2.kumo.test": "node-a",
    }
    assert nodes("drain", "node-b")[1] == "node-b: draining: it keeps its tenants and takes no new ones\n"
    _apply(session_factory, _tenant(3))  # node-b has fewer tenants but takes no new ones
    assert _placement(session_factory)["t3.kumo.test"] == "node-a"
    nodes("drain", "node-a")
    _apply(session_factory, _tenant(4))  # every node draining: on no node, as without a cluster
    assert _placement(session_factory)["t4.kumo.test"] is None
    assert nodes("activate", "node-b")[1] == "node-b: active: it takes new tenants\n"
    _apply(session_factory, _tenant(5))
    assert _placement(session_factory)["t5.kumo.test"] == "node-b"


def test_the_tenant_file_neither_shows_nor_changes_the_node(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    nodes("add", "node-b", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    _apply(session_factory, tenant_doc())
    assert nodes("move", "acme.kumo.test", "node-b")[0] == 0
    changed = tenant_doc(name="アクメ新社名")
    assert _apply(session_factory, changed).changed
    assert _placement(session_factory) == {"acme.kumo.test": "node-b"}
    with session_factory() as session:
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
    assert not any("node" in key for key in exported)
    with pytest.raises(ConfigError, match="node"):  # not a key of the file
        _apply(session_factory, tenant_doc(node="node-a"))
    assert _placement(session_factory) == {"acme.kumo.test": "node-b"}


def test_move_says_what_happens_next_and_bumps_the_config_version(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    nodes("add", "node-b", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    _apply(session_factory, tenant_doc())
    with session_factory() as session:
        version = db.tenant_by_domain(session, "acme.kumo.test").config_version
    code, out, _ = nodes("move", "ACME.kumo.test", "node-b")
    assert code == 0
    assert out.startswith("acme.kumo.test: node-a -> node-b\n")
    assert "next REGISTER" in out and "calls up now finish where they are" in out
    with session_factory() as session:
        # Routing snapshots key on the version: the on-net choice (fsctl.routing.calls) sees the move.
        assert db.tenant_by_domain(session, "acme.kumo.test").config_version == version + 1
    assert nodes("move", "acme.kumo.test", "node-b")[1] == "acme.kumo.test: already on node-b\n"
    nodes("drain", "node-a")
    code, out, _ = nodes("move", "acme.kumo.test", "node-a")  # an explicit move may target a draining node
    assert code == 0 and "note: node-a is draining; it serves acme.kumo.test all the same" in out
    assert _placement(session_factory) == {"acme.kumo.test": "node-a"}


def test_move_refuses_an_unknown_tenant_or_node(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    _apply(session_factory, tenant_doc())
    code, _, err = nodes("move", "nowhere.kumo.test", "node-a")
    assert code == 2 and err == "fsctl nodes move: TENANT_DOMAIN: no tenant with domain 'nowhere.kumo.test'\n"
    code, _, err = nodes("move", "acme.kumo.test", "node-z")
    assert code == 2 and err.startswith("fsctl nodes move: NODE: no node named 'node-z'")
    for command in ("drain", "activate", "remove"):
        code, _, err = nodes(command, "node-z")
        assert code == 2 and f"fsctl nodes {command}: NODE: no node named 'node-z'" in err


def test_drain_move_spreads_the_tenants_over_the_other_active_nodes(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    for n in range(5):
        _apply(session_factory, _tenant(n))
    nodes("add", "node-b", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    nodes("add", "node-c", "--sip", "10.0.0.4:5060", "--carrier", "10.0.0.4:5080")
    nodes("add", "node-d", "--sip", "10.0.0.5:5060", "--carrier", "10.0.0.5:5080")
    _apply(session_factory, _tenant(5))  # on node-b: it had the fewest (0) and the lowest id
    nodes("drain", "node-d")  # a draining node takes none of them
    code, out, _ = nodes("drain", "node-a", "--move")
    assert code == 0
    assert out.splitlines()[:6] == [
        "t0.kumo.test: node-a -> node-c",
        "t1.kumo.test: node-a -> node-b",
        "t2.kumo.test: node-a -> node-c",
        "t3.kumo.test: node-a -> node-b",
        "t4.kumo.test: node-a -> node-c",
        "node-a: draining, 5 tenant(s) moved.",
    ]
    listed = {n["name"]: (n["state"], n["tenants"]) for n in json.loads(nodes("list", "--json")[1])}
    assert listed == {
        "node-a": ("draining", 0),
        "node-b": ("active", 3),
        "node-c": ("active", 3),
        "node-d": ("draining", 0),
    }
    assert nodes("remove", "node-a")[1] == "node-a: removed\n"


def test_drain_move_without_another_active_node_changes_nothing(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    _apply(session_factory, _tenant(0))
    code, _, err = nodes("drain", "node-a", "--move")
    assert code == 2 and "no other active node" in err
    assert json.loads(nodes("list", "--json")[1])[0]["state"] == "active"
    assert _placement(session_factory) == {"t0.kumo.test": "node-a"}


def test_remove_refuses_a_node_with_tenants(session_factory, nodes):
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    _apply(session_factory, _tenant(0))
    code, _, err = nodes("remove", "node-a")
    assert code == 2
    assert "node 'node-a' still has 1 tenant(s): move them first" in err
    assert len(json.loads(nodes("list", "--json")[1])) == 1


def test_place_puts_the_single_switch_tenants_on_the_nodes(session_factory, nodes):
    for n in range(3):
        _apply(session_factory, _tenant(n))
    code, _, err = nodes("place")
    assert code == 2 and "no active node" in err
    nodes("add", "node-a", "--sip", "10.0.0.2:5060", "--carrier", "10.0.0.2:5080")
    nodes("add", "node-b", "--sip", "10.0.0.3:5060", "--carrier", "10.0.0.3:5080")
    assert "3 tenant(s) on no node" in nodes("list")[1]
    code, out, _ = nodes("place")
    assert code == 0 and "3 tenant(s) placed" in out
    assert _placement(session_factory) == {
        "t0.kumo.test": "node-a",
        "t1.kumo.test": "node-b",
        "t2.kumo.test": "node-a",
    }
    assert "on no node" not in nodes("list")[1]
