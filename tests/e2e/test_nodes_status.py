"""`fsctl nodes status` asks a real FreeSWITCH's event socket: up, both profiles RUNNING, its switchname;
the switch accepts the command `fsctl nodes move --resync-phones` sends."""

from __future__ import annotations

import json

from fsctl.cluster.status import resync_phones


def test_nodes_status_reads_the_switch(e2e) -> None:
    address = f"127.0.0.1:{e2e.ports['esl']}"
    # A node record for this switch, removed again: no tenant is created meanwhile, so none is placed.
    e2e.kumo.fsctl(
        "nodes", "add", "e2e-node", "--sip", e2e.registrar, "--carrier", e2e.carrier_profile, "--esl", address
    )
    try:
        result = e2e.kumo.fsctl("nodes", "status", "--json", check=False)
        [health] = json.loads(result.stdout)
        switchname = e2e.switch.api("switchname").strip()
        assert health["switchname"] == switchname
        assert health["uptime"].startswith("UP ")
        assert "session(s) - peak" in health["sessions"]
        assert health["profiles"]["internal"] == "RUNNING"
        assert health["profiles"]["carrier"] == "RUNNING"
        assert health["up"] is True
        named = switchname == "e2e-node"
        assert result.returncode == 0
        assert any("its switchname is" in p for p in health["problems"]) is not named
        text = e2e.kumo.fsctl("nodes", "status").stdout
        assert text.startswith("e2e-node: up (UP ")
        # What `fsctl nodes move --resync-phones` asks the old node, for a domain with no phones here.
        reply = resync_phones("e2e-node", address, e2e.kumo.env["FSCTL_ESL_PASSWORD"], "nobody.kumo.test")
        assert reply == "+OK rebooting all registrations matching specified call_id"
    finally:
        e2e.kumo.fsctl("nodes", "remove", "e2e-node")
