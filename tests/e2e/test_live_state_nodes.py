"""One kumo, two FreeSWITCH nodes: live state records the node, and one node going away and coming
back leaves the other node's rows alone.

Node A (switchname node-a, SIP on 127.0.0.2) and node B (node-b, 127.0.0.3), each deployed from
freeswitch/ with its own conf and state dirs and event socket port; one `fsctl serve` given both
event sockets (FSCTL_ESL_ADDRESS with two entries). No Kamailio here: the phones register on a node
directly (tests/e2e/test_cluster.py runs the cluster behind Kamailio).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from e2e import switch
from e2e.conftest import Kumo, _sounds_dir, _ulaw_tone_bytes, _wait_profiles, wait_until
from e2e.phones import Phone, SippFactory, free_udp_port, reserve_ports
from e2e.tenants import ACME, BETA

NODES = {"node-a": "127.0.0.2", "node-b": "127.0.0.3"}


@dataclass
class TwoNodes:
    kumo: Kumo
    switches: dict[str, switch.Switch]
    sip_ports: dict[str, int]
    esl_ports: dict[str, int]
    sipp: SippFactory

    def phone(self, node: str, tenant, extension: str) -> Phone:
        registrar = f"{NODES[node]}:{self.sip_ports[node]}"
        return Phone(
            self.sipp,
            registrar,
            extension,
            tenant.domain,
            tenant.password(extension),
            "",
            port=free_udp_port(),
        )

    def registrations(self) -> dict[tuple[str, str], tuple]:
        rows = self.kumo.rows(
            "SELECT t.domain, r.extension, r.node, r.call_id, r.updated_at FROM live_registrations r "
            "JOIN tenants t ON t.id = r.tenant_id"
        )
        return {(r.domain, r.extension): (r.node, r.call_id, r.updated_at) for r in rows}

    def calls(self) -> dict[str, str]:
        return {r.uuid: r.node for r in self.kumo.rows("SELECT uuid, node FROM live_calls")}


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, e2e_database_url) -> Iterator[TwoNodes]:
    workdir = tmp_path_factory.mktemp("kumo-two-nodes")
    located = switch.locate()
    install_dir = switch.install(located, workdir / "fs")
    sounds = _sounds_dir()
    (workdir / "tone.ulaw").write_bytes(_ulaw_tone_bytes())
    ports = reserve_ports(
        tcp=("http", "outbound", "esl-node-a", "esl-node-b"),
        udp=("carrier",),
        sip=("sip-node-a", "sip-node-b", "carrier-node-a", "carrier-node-b"),
    )
    http_password, esl_password = secrets.token_hex(12), secrets.token_hex(12)
    shared = workdir / "nodes-storage"  # FSCTL_SHARED_STORAGE_DIR: both nodes and kumo use it
    env = dict(os.environ)
    env.update(
        DATABASE_URL=e2e_database_url,
        FSCTL_HTTP_LISTEN=f"127.0.0.1:{ports['http']}",
        FSCTL_XML_CURL_AUTH=f"freeswitch:{http_password}",
        FSCTL_ESL_ADDRESS=",".join(f"127.0.0.1:{ports[f'esl-{n}']}" for n in NODES),
        FSCTL_ESL_PASSWORD=esl_password,
        FSCTL_OUTBOUND_LISTEN=f"127.0.0.1:{ports['outbound']}",
        FSCTL_SHARED_STORAGE_DIR=str(shared),
        FSCTL_SOUNDS_DIR=str(sounds),
    )
    for name in ("FSCTL_RECORDINGS_DIR", "FSCTL_AUDIO_DIR", "FSCTL_FAX_DIR", "FSCTL_VOICEMAIL_DIR"):
        env.pop(name, None)
    for sub in ("recordings", "audio", "fax", "voicemail"):
        (shared / sub).mkdir(parents=True)
    kumo = Kumo(workdir, e2e_database_url, env)
    kumo.fsctl("db", "upgrade")
    for tenant in (ACME, BETA):
        kumo.apply(tenant.doc)
    switches: dict[str, switch.Switch] = {}
    for index, (name, ip) in enumerate(NODES.items()):
        conf, state = workdir / name / "conf", workdir / name / "state"
        url = f"http://127.0.0.1:{ports['http']}"
        switch.deploy(
            conf,
            {
                "kumo_node_name": name,
                "kumo_platform_domain": "pbx.e2e.test",
                "kumo_xml_url_1": f"{url}/fs/xml",
                "kumo_xml_url_2": f"{url}/fs/xml",
                "kumo_cdr_url_1": f"{url}/fs/cdr",
                "kumo_cdr_url_2": f"{url}/fs/cdr",
                "kumo_http_credentials": f"freeswitch:{http_password}",
                "kumo_cdr_spool_dir": str(workdir / name / "cdr-spool"),
                "kumo_esl_password": esl_password,
                "kumo_esl_port": str(ports[f"esl-{name}"]),
                "kumo_local_ip": ip,
                "kumo_external_ip": ip,
                "kumo_sip_port": str(ports[f"sip-{name}"]),
                "kumo_rtp_start_port": str(16384 + index * 8000),
                "kumo_rtp_end_port": str(24000 + index * 8000),
                "kumo_carrier_host": f"127.0.0.1:{ports['carrier']}",
                "kumo_carrier_cidr": "127.0.0.1/32",
                "kumo_carrier_sip_port": str(ports[f"carrier-{name}"]),
                "kumo_carrier_ping": "0",
                "kumo_audio_dir": str(shared / "audio"),
                "kumo_recordings_dir": str(shared / "recordings"),
                "kumo_fax_dir": str(shared / "fax"),
            },
        )
        switches[name] = switch.Switch(
            install_dir, located.runtime, conf, state, sounds, "127.0.0.1", ports[f"esl-{name}"], esl_password
        )
    try:
        kumo.start()
        for sw in switches.values():
            sw.start()
        kumo.wait_esl_connected()
        for sw in switches.values():
            _wait_profiles(sw)
        yield TwoNodes(
            kumo,
            switches,
            {n: ports[f"sip-{n}"] for n in NODES},
            {n: ports[f"esl-{n}"] for n in NODES},
            SippFactory(workdir, "127.0.0.1"),
        )
    finally:
        for sw in switches.values():
            sw.stop()
        kumo.stop()
        kumo.engine.dispose()


def wait_for_rows(fetch, count: int, what: str) -> dict:
    """What `fetch()` returns once it holds `count` rows."""
    seen: dict = {}

    def enough() -> bool:
        seen.update(rows=fetch())
        return len(seen["rows"]) == count

    wait_until(enough, 15.0, what)
    return seen["rows"]


def test_one_kumo_records_each_nodes_phones_and_a_node_restart_leaves_the_other(two_nodes) -> None:
    kumo = two_nodes.kumo
    health = kumo.health()
    assert health["esl"] == "connected"
    assert sorted(v["node"] for v in health["esl_nodes"].values()) == ["node-a", "node-b"]

    # acme's phones on node A, beta's on node B.
    on_a = [two_nodes.phone("node-a", ACME, ext) for ext in ("101", "102")]
    on_b = two_nodes.phone("node-b", BETA, "101")
    for phone in (*on_a, on_b):
        assert phone.register().ok
    regs = wait_for_rows(two_nodes.registrations, 3, "three registrations")
    assert {key: value[0] for key, value in regs.items()} == {
        (ACME.domain, "101"): "node-a",
        (ACME.domain, "102"): "node-a",
        (BETA.domain, "101"): "node-b",
    }

    # A call on node A stays up while node B goes away and comes back.
    answering = on_a[1].answer(ring_ms=200, timeout_s=90)
    calling = on_a[0].call("102", talk_ms=30_000, timeout_s=90)
    calls = wait_for_rows(two_nodes.calls, 2, "the call's two legs on node A")
    assert set(calls.values()) == {"node-a"}

    node_b = two_nodes.switches["node-b"]
    node_b.stop()
    wait_until(lambda: kumo.health()["esl"] == "disconnected", what="node B's event socket seen down")
    states = {v["node"]: v["state"] for v in kumo.health()["esl_nodes"].values()}
    assert states == {"node-a": "connected", "node-b": "disconnected"}
    node_b.start()
    _wait_profiles(node_b)
    wait_until(lambda: kumo.health()["esl"] == "connected", timeout=60, what="node B reconnected")
    # B's resync replaced B's row (gone, or read back from the restarted switch's own table:
    # either way not the row it was); A's rows are the very same rows, untouched.
    beta_key = (BETA.domain, "101")
    wait_until(lambda: two_nodes.registrations().get(beta_key) != regs[beta_key], what="node B resynced")
    after = two_nodes.registrations()
    for key in ((ACME.domain, "101"), (ACME.domain, "102")):
        assert after[key] == regs[key]
    assert two_nodes.calls() == calls
    # node B's phone registers again on the restarted node and is node B's again.
    assert on_b.register().ok
    wait_until(
        lambda: two_nodes.registrations().get(beta_key, ("",))[0] == "node-b",
        what="beta 101 on node B again",
    )
    assert calling.wait(timeout=90).ok, calling.responses()
    assert answering.wait(timeout=90).ok
    wait_until(lambda: not two_nodes.calls(), what="the call's legs gone at hang-up")
    for phone in (*on_a, on_b):
        phone.unregister()
