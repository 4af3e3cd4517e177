"""Issue 20, proven by calls: Kamailio in front of two FreeSWITCH nodes (tests/e2e/cluster.py).

Tenant acme is placed on node A, beta on node B. Phones register with Kamailio's address and their
tenant's domain; which node holds a registration is read from that node's own `sofia status`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from e2e.cluster import Cluster, build_cluster, kamailio_unavailable
from e2e.conftest import throwaway_database
from e2e.esl import event_is
from e2e.tenants import ACME, BETA

REQUIRED = os.environ.get("KUMO_E2E_REQUIRED") == "1"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    reason = kamailio_unavailable()
    if reason:
        if REQUIRED:
            pytest.fail(f"KUMO_E2E_REQUIRED=1 but the cluster tests cannot run: {reason}")
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("kumo-cluster")
    databases = throwaway_database(workdir, "kumo_cluster")
    database_url = next(databases)
    clusters = build_cluster(workdir, database_url, {"node-a": [ACME], "node-b": [BETA]})
    try:
        yield next(clusters)
    finally:
        clusters.close()
        databases.close()


@pytest.fixture(autouse=True)
def _e2e_record(request, cluster: Cluster) -> Iterator[None]:
    """Replaces the single-switch session's recorder (these tests never start that switch): a
    failing test shows its SIP traces, each node's events and the end of Kamailio's log."""
    runs_before = len(cluster.sipp.runs)
    log_offset = cluster.kamailio.log_size()
    marks = {name: node.events.mark() for name, node in cluster.nodes.items() if node.events}

    def sections() -> list[tuple[str, str]]:
        out = [
            (f"SIP trace {run.name} (exit {run.returncode})", run.trace() + run.errors())
            for run in cluster.sipp.runs[runs_before:]
        ]
        for name, node in cluster.nodes.items():
            if node.events is not None and name in marks:
                out.append((f"{name} events", node.events.summary(marks[name])))
        out.append(("kamailio log", cluster.kamailio.log_since(log_offset)[-20000:]))
        return out

    request.node._e2e_sections = sections
    yield
    for run in cluster.sipp.runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.wait()
    while cluster.registered:
        cluster.registered.pop().unregister()


def _acme(cluster: Cluster, ext: str, registered: bool = True):
    make = cluster.registered_phone if registered else cluster.phone
    return make(ACME.domain, ext, ACME.password(ext))


def _beta(cluster: Cluster, ext: str, registered: bool = True):
    make = cluster.registered_phone if registered else cluster.phone
    return make(BETA.domain, ext, BETA.password(ext))


def test_phones_register_through_kamailio_on_their_tenants_node(cluster: Cluster) -> None:
    _acme(cluster, "101")
    _beta(cluster, "101")
    assert cluster.node_of_registration(ACME.domain, "101") == ["node-a"]
    assert cluster.node_of_registration(BETA.domain, "101") == ["node-b"]
    # the node reaches the phone back through Kamailio: the Path it stored
    reg = cluster.nodes["node-a"].registrations()
    assert "fs_path=" in reg and cluster.kamailio.address.split(":")[0] in reg


def test_extension_calls_inside_each_tenant_run_on_its_node(cluster: Cluster) -> None:
    for node, tenant_phone in (("node-a", _acme), ("node-b", _beta)):
        callee = tenant_phone(cluster, "102")
        events = cluster.nodes[node].events
        mark = events.mark()
        answering = callee.answer()
        call = tenant_phone(cluster, "101", registered=False).call("102", talk_ms=800)
        assert call.wait().ok, call.responses()
        assert answering.wait().ok, answering.responses()
        bridge = events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark, what=f"bridge on {node}")
        assert bridge["FreeSWITCH-Switchname"] == node


def test_a_did_from_the_carrier_reaches_its_tenants_node(cluster: Cluster) -> None:
    phone = _beta(cluster, "101")
    node_b = cluster.nodes["node-b"]
    mark_a, mark_b = cluster.nodes["node-a"].events.mark(), node_b.events.mark()
    answering = phone.answer()
    call = cluster.carrier_call("0322220000", caller="0355551234", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    inbound = node_b.events.wait_for(
        event_is("CHANNEL_CREATE", Caller_Destination_Number="0322220000"), since=mark_b, what="DID on node B"
    )
    assert inbound["Channel-Name"].startswith("sofia/carrier/")
    assert not cluster.nodes["node-a"].events.matching(event_is("CHANNEL_CREATE"), since=mark_a)


def test_a_number_nobody_owns_gets_404_from_kamailio(cluster: Cluster) -> None:
    call = cluster.carrier_call("0399999999")
    call.wait()
    assert 404 in call.responses(), call.responses()
