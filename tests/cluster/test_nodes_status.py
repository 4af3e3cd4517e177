"""`fsctl nodes status` against fake switches serving the captured `api status` reply: up, down,
a wrong password, a wrong switchname, a stopped profile. The real switch: tests/e2e/test_nodes_status.py."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from fsctl import cluster, db
from fsctl.cli import main
from fsctl.cluster.status import profile_states

sys.path.insert(0, str(Path(__file__).parent.parent / "esl"))
from eslfake import FakeSwitch, synthetic_api_response  # noqa: E402

# The captured session authenticated with this; the fake replays its real "+OK accepted" for it.
PASSWORD = "ClueCon"


def sofia_status(*profiles: tuple[str, str]) -> str:
    """`sofia status` as mod_sofia.c cmd_status writes it ("%25s\\t%s\\t  %40s\\t%s (%u)")."""
    rule = "=" * 97
    lines = [f"{'Name':>25}\t   Type\t  {'Data':>40}\tState", rule]
    for name, state in profiles:
        lines.append(f"{name:>25}\tprofile\t  {'sip:mod_sofia@127.0.0.2:5060':>40}\t{state} (0)")
    lines.append(f"{'carrier::carrier':>25}\tgateway\t  {'sip:203.0.113.1':>40}\tNOREG")
    lines.append(f"{'127.0.0.2':>25}\t  alias\t  {'internal':>40}\tALIASED")
    return "\n".join([*lines, rule, f"{len(profiles)} profiles 1 alias", ""])


def fake_node(switchname: str, *profiles: tuple[str, str]) -> FakeSwitch:
    extra = {
        "api switchname": synthetic_api_response(switchname),
        "api sofia status": synthetic_api_response(sofia_status(*profiles)),
    }
    return FakeSwitch("inbound-json-lookups.log", password=PASSWORD, extra=extra).start()


@pytest.fixture
def switches():
    started: list[FakeSwitch] = []

    def start(*args) -> str:
        switch = fake_node(*args)
        started.append(switch)
        host, port = switch.address
        return f"{host}:{port}"

    yield start
    for switch in started:
        switch.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _add(session_factory, name: str, esl: str) -> None:
    index = len(name)  # distinct SIP addresses per node
    with db.session_scope(session_factory) as session:
        cluster.add_node(session, name, f"127.0.1.{index}:5060", f"127.0.1.{index}:5080", esl)


def _status(database_url, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--database-url", database_url, "nodes", "status", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_states_read_profiles_not_gateways_or_aliases():
    text = sofia_status(("internal", "RUNNING"), ("carrier", "RUNNING"))
    assert profile_states(text) == {"internal": "RUNNING", "carrier": "RUNNING"}


def test_up_down_and_why(session_factory, database_url, capsys, monkeypatch, switches):
    monkeypatch.setenv("FSCTL_ESL_PASSWORD", PASSWORD)
    both = (("internal", "RUNNING"), ("carrier", "RUNNING"))
    _add(session_factory, "node-a", switches("node-a", *both))
    _add(session_factory, "node-bb", f"127.0.0.1:{_free_port()}")  # nothing listens there
    _add(session_factory, "node-ccc", switches("node-ccc", ("internal", "RUNNING")))  # carrier not loaded
    _add(session_factory, "node-dddd", switches("somehost", *both))
    _add(session_factory, "node-eeeee", "")
    code, out, _ = _status(database_url, capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("node-a: up (UP 0 years, 0 days, 0 hours, 1 minute")
    assert "carrier RUNNING, internal RUNNING; 0 session(s) - peak 2, last 5min 2)" in lines[0]
    text = "\n".join(lines)
    assert "node-bb: DOWN\n  event socket 127.0.0.1:" in text and "unreachable" in text
    assert "node-ccc: DOWN (UP" in text and "  sofia profile carrier is not loaded" in text
    # A wrong switchname is up but said: its events would be recorded under another node's name.
    assert "node-dddd: up (UP" in text
    assert "  its switchname is 'somehost', not 'node-dddd': set kumo_node_name=node-dddd on it" in text
    assert "node-eeeee: DOWN\n  no event socket address (fsctl nodes add ... --esl HOST:PORT)" in text

    code, out, _ = _status(database_url, capsys, "node-a", "--json")
    assert code == 0
    [health] = json.loads(out)
    assert health["up"] is True and health["switchname"] == "node-a" and health["problems"] == []
    assert health["profiles"] == {"internal": "RUNNING", "carrier": "RUNNING"}


def test_a_wrong_password_or_unknown_node_is_said(
    session_factory, database_url, capsys, monkeypatch, switches
):
    monkeypatch.setenv("FSCTL_ESL_PASSWORD", "not-the-nodes-password")
    _add(session_factory, "node-a", switches("node-a", ("internal", "RUNNING"), ("carrier", "RUNNING")))
    code, out, _ = _status(database_url, capsys)
    assert code == 1 and "node-a: DOWN\n  the event socket refused kumo's ESL password" in out
    code, _, err = _status(database_url, capsys, "node-z")
    assert code == 2 and err.startswith("fsctl nodes status: NODE: no node named 'node-z'")


def test_move_resync_phones_asks_the_old_node_after_the_move(
    session_factory, database_url, capsys, monkeypatch, make_tenant
):
    """--resync-phones: the old node (not the new one) drops the domain's registrations and NOTIFYs
    its phones, after the move is committed; a node that cannot be asked leaves the move done."""
    monkeypatch.setenv("FSCTL_ESL_PASSWORD", PASSWORD)
    command = "api sofia profile internal flush_inbound_reg @acme.kumo.test reboot"
    old = fake_node("node-a", ("internal", "RUNNING"), ("carrier", "RUNNING"))
    old.extra[command] = synthetic_api_response(
        "+OK rebooting all registrations matching specified call_id\n"
    )
    new = fake_node("node-b", ("internal", "RUNNING"), ("carrier", "RUNNING"))
    try:
        _add(session_factory, "node-a", "{}:{}".format(*old.address))
        make_tenant()  # on node-a, the only node
        _add(session_factory, "node-bb", "{}:{}".format(*new.address))
        code = main(
            ["--database-url", database_url, "nodes", "move", "acme.kumo.test", "node-bb", "--resync-phones"]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        assert out.splitlines()[-1] == (
            "node-a: +OK rebooting all registrations matching specified call_id;"
            " the phones register again on their new node"
        )
        assert command in old.received and not any("flush_inbound_reg" in c for c in new.received)
    finally:
        old.stop()
        new.stop()
    # Back to node-a, whose event socket is gone now: the move stands, the phones move as they refresh.
    code = main(
        ["--database-url", database_url, "nodes", "move", "acme.kumo.test", "node-a", "--resync-phones"]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "acme.kumo.test: node-bb -> node-a" in out
    assert (
        err.startswith("--resync-phones: node-bb: event socket 127.0.0.1:")
        and "the phones move as they refresh" in err
    )
    with session_factory() as session:
        assert cluster.current_node(session, "acme.kumo.test").name == "node-a"
