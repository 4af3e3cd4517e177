"""`fsctl nodes status`: ask each node's event socket whether the switch and its profiles are up.

One short-lived connection per node to the `esl_address` the operator recorded, with kumo's event
socket password (every node is deployed with the same `kumo_esl_password`): `switchname` (must be
the node's name, else its events land under another name in kumo's live state), `status` (uptime,
sessions) and `sofia status` (both profiles RUNNING). Nothing is subscribed and nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gevent.socket

from fsctl.esl.connection import Connection, EslError

# The profiles every node runs (freeswitch/sip_profiles/): phones, and the carrier and gateways.
PROFILES = ("internal", "carrier")


@dataclass
class NodeHealth:
    name: str
    esl_address: str
    up: bool = False
    problems: list[str] = field(default_factory=list)
    switchname: str = ""
    uptime: str = ""
    sessions: str = ""
    profiles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def split_address(address: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` (as fsctl.cluster.check_host_port stored it) -> (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def profile_states(sofia_status: str) -> dict[str, str]:
    """profile name -> its state word (RUNNING, ...) from `sofia status`'s table: `Name Type Data
    State` columns, one line per profile, gateway and alias."""
    states = {}
    for line in sofia_status.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "profile":
            states[parts[0]] = parts[3]
    return states


def node_health(name: str, esl_address: str, password: str, timeout: float = 3.0) -> NodeHealth:
    """The health of one node as its event socket tells it; never raises for a node that is down."""
    health = NodeHealth(name, esl_address)
    if not esl_address:
        health.problems.append("no event socket address (fsctl nodes add ... --esl HOST:PORT)")
        return health
    try:
        sock = gevent.socket.create_connection(split_address(esl_address), timeout=timeout)
    except OSError as exc:  # refused, unreachable, timed out
        health.problems.append(f"event socket {esl_address} unreachable: {exc}")
        return health
    sock.settimeout(None)
    conn = Connection(sock, command_timeout=timeout, name=f"event socket of {name}")
    conn.start()
    try:
        if not conn.auth_requested.wait(timeout) or not conn.connected:
            health.problems.append(f"event socket {esl_address} sent no greeting")
            return health
        if conn.send(f"auth {password}").reply_text != "+OK accepted":
            health.problems.append("the event socket refused kumo's ESL password")
            return health
        health.switchname = conn.api("switchname").data.strip()
        status = conn.api("status").data.splitlines()
        health.uptime = status[0] if status else ""
        health.sessions = next((line.strip() for line in status if "session(s) - peak" in line), "")
        health.profiles = profile_states(conn.api("sofia status").data)
    except EslError as exc:
        health.problems.append(f"event socket {esl_address}: {exc}")
        return health
    finally:
        conn.close("status read")
    if health.switchname != name:
        health.problems.append(
            f"its switchname is {health.switchname!r}, not {name!r}: set kumo_node_name={name} on it"
        )
    for profile in PROFILES:
        state = health.profiles.get(profile)
        if state != "RUNNING":
            health.problems.append(f"sofia profile {profile} is {state or 'not loaded'}")
    health.up = health.uptime.startswith("UP") and not any("sofia profile" in p for p in health.problems)
    return health
