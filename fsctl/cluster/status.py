"""`fsctl nodes status`: ask each node's event socket whether the switch and its profiles are up.

One short-lived connection per node to the `esl_address` the operator recorded, with kumo's event
socket password (every node is deployed with the same `kumo_esl_password`): `switchname` (must be
the node's name, else its events land under another name in kumo's live state), `status` (uptime,
sessions) and `sofia status` (both profiles RUNNING). Nothing is subscribed and nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


class NodeUnreachable(Exception):
    """The node's event socket could not be used; the message says why, for the operator."""


@contextmanager
def node_socket(name: str, esl_address: str, password: str, timeout: float) -> Iterator[Connection]:
    """An authenticated event-socket connection to one node, closed on leaving; NodeUnreachable
    says what failed (no address, unreachable, no greeting, password refused)."""
    if not esl_address:
        raise NodeUnreachable("no event socket address (fsctl nodes add ... --esl HOST:PORT)")
    try:
        sock = gevent.socket.create_connection(split_address(esl_address), timeout=timeout)
    except OSError as exc:  # refused, unreachable, timed out
        raise NodeUnreachable(f"event socket {esl_address} unreachable: {exc}") from None
    sock.settimeout(None)
    conn = Connection(sock, command_timeout=timeout, name=f"event socket of {name}")
    conn.start()
    try:
        if not conn.auth_requested.wait(timeout) or not conn.connected:
            raise NodeUnreachable(f"event socket {esl_address} sent no greeting")
        if conn.send(f"auth {password}").reply_text != "+OK accepted":
            raise NodeUnreachable("the event socket refused kumo's ESL password")
        yield conn
    except EslError as exc:
        raise NodeUnreachable(f"event socket {esl_address}: {exc}") from None
    finally:
        conn.close("done")


def node_health(name: str, esl_address: str, password: str, timeout: float = 3.0) -> NodeHealth:
    """The health of one node as its event socket tells it; never raises for a node that is down."""
    health = NodeHealth(name, esl_address)
    try:
        with node_socket(name, esl_address, password, timeout) as conn:
            health.switchname = conn.api("switchname").data.strip()
            status = conn.api("status").data.splitlines()
            health.uptime = status[0] if status else ""
            health.sessions = next((line.strip() for line in status if "session(s) - peak" in line), "")
            health.profiles = profile_states(conn.api("sofia status").data)
    except NodeUnreachable as exc:
        health.problems.append(str(exc))
        return health
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


def resync_phones(name: str, esl_address: str, password: str, domain: str, timeout: float = 3.0) -> str:
    """Have node `name` drop every registration of `domain` on its internal profile and NOTIFY each
    of those phones to register again; the switch's reply. NodeUnreachable when it cannot be asked.

    `sofia profile internal flush_inbound_reg @<domain> reboot` (mod_sofia.c, sofia_reg.c
    sofia_reg_expire_call_id): "@domain" selects the registrations whose sip_host is the domain,
    "reboot" sends each a NOTIFY (sofia_reg_send_reboot): `check-sync`, on which phones register
    again (through Kamailio, so on the tenant's new node), but snom, Yealink, Cisco and Linksys
    user agents are sent their reboot event: the operator's choice, never a side effect of a move.
    """
    with node_socket(name, esl_address, password, timeout) as conn:
        reply = conn.api(f"sofia profile internal flush_inbound_reg @{domain} reboot")
    if not reply.ok:
        raise NodeUnreachable(f"node {name} refused: {reply.data.strip()}")
    return reply.data.strip()
