"""A cluster of FreeSWITCH nodes behind Kamailio: the nodes, and which node each tenant lives on.

A tenant lives on one node at a time (park lots, pickup groups, `limit` counters and valet state
are node-local in FreeSWITCH). Kamailio reads the placement through SQL views (migration
29e01016cc62: kamailio_domain_routes, kamailio_number_routes, kamailio_gateway_routes,
kamailio_dispatcher), so a change committed here is what its very next request sees. With no node
defined every tenant's node is NULL and kumo is the single switch it always was.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fsctl import models

# FreeSWITCH's switchname, which events carry as FreeSWITCH-Switchname.
NODE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class NodeError(ValueError):
    """A node operation refused; `field` names the argument at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_node_name(name: str) -> str:
    if not isinstance(name, str) or not NODE_NAME.match(name):
        raise NodeError(
            "name",
            f"{name!r} is not a node name: lower-case letters, digits and '-', starting with a letter"
            " or digit, at most 63 characters (the node's FreeSWITCH switchname)",
        )
    return name


def check_host_port(field: str, text: str) -> str:
    """`host:port` (IPv6 as [addr]:port) -> the same text, normalised; NodeError naming `field`."""
    value = (text or "").strip()
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise NodeError(field, f"{text!r} is not host:port (e.g. 10.0.0.2:5060)")
    if host.startswith("[") and host.endswith("]"):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise NodeError(field, f"{text!r}: {host} is not an IPv6 address") from None
        return f"[{address}]:{int(port)}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host) or host.replace(".", "").isdigit():
            raise NodeError(field, f"{text!r}: {host!r} is not an IP address or host name") from None
        return f"{host.lower()}:{int(port)}"
    if address.version == 6:
        raise NodeError(field, f"{text!r}: write an IPv6 address as [address]:port")
    return f"{address}:{int(port)}"


def node_by_name(session: Session, name: str) -> models.SwitchNode:
    node = session.scalar(select(models.SwitchNode).where(models.SwitchNode.name == name))
    if node is None:
        raise NodeError("node", f"no node named {name!r} (see `fsctl nodes list`)")
    return node


def tenant_counts(session: Session) -> dict[int, int]:
    """node id -> how many tenants live on it (nodes without tenants absent)."""
    rows = session.execute(
        select(models.Tenant.node_id, func.count())
        .where(models.Tenant.node_id.is_not(None))
        .group_by(models.Tenant.node_id)
    )
    return {node_id: count for node_id, count in rows}


def least_loaded_node(session: Session, exclude: int | None = None) -> models.SwitchNode | None:
    """The active node with the fewest tenants (ties: the lowest id); None when there is none."""
    counts = tenant_counts(session)
    active = session.scalars(
        select(models.SwitchNode)
        .where(models.SwitchNode.state == models.NodeState.ACTIVE.value)
        .order_by(models.SwitchNode.id)
    ).all()
    candidates = [node for node in active if node.id != exclude]
    return min(candidates, key=lambda node: (counts.get(node.id, 0), node.id), default=None)


def place_new_tenant(session: Session, tenant: models.Tenant) -> None:
    """Put a tenant being created on the least loaded active node; no node = NULL, a single switch.

    Every path that creates a tenant (fsctl apply, the API, the panel's sign-up and approval, the
    demo) goes through the tenant file's apply, which calls this once for a new tenant only: an
    existing tenant keeps its node whatever its file says (the file has no node).
    """
    node = least_loaded_node(session)
    tenant.node_id = node.id if node is not None else None


@dataclass(frozen=True)
class NodeInfo:
    name: str
    state: str
    sip_address: str
    carrier_address: str
    esl_address: str
    tenants: int

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def add_node(session: Session, name: str, sip: str, carrier: str, esl: str = "") -> models.SwitchNode:
    check_node_name(name)
    sip_address = check_host_port("sip", sip)
    carrier_address = check_host_port("carrier", carrier)
    esl_address = check_host_port("esl", esl) if esl else ""
    if sip_address == carrier_address:
        raise NodeError("carrier", "the carrier profile needs its own host:port, not the internal profile's")
    if session.scalar(select(models.SwitchNode.id).where(models.SwitchNode.name == name)) is not None:
        raise NodeError("name", f"a node named {name!r} exists already")
    for field, address in (("sip", sip_address), ("carrier", carrier_address)):
        taken = session.scalar(
            select(models.SwitchNode.name).where(
                (models.SwitchNode.sip_address == address) | (models.SwitchNode.carrier_address == address)
            )
        )
        if taken is not None:
            raise NodeError(field, f"{address} is already a profile of node {taken!r}")
    node = models.SwitchNode(
        name=name,
        sip_address=sip_address,
        carrier_address=carrier_address,
        esl_address=esl_address,
        state=models.NodeState.ACTIVE.value,
    )
    session.add(node)
    session.flush()
    return node


def all_nodes(session: Session) -> list[models.SwitchNode]:
    return list(session.scalars(select(models.SwitchNode).order_by(models.SwitchNode.name)))


def list_nodes(session: Session) -> list[NodeInfo]:
    counts = tenant_counts(session)
    return [
        NodeInfo(
            node.name,
            node.state,
            node.sip_address,
            node.carrier_address,
            node.esl_address,
            counts.get(node.id, 0),
        )
        for node in all_nodes(session)
    ]


def set_state(session: Session, name: str, state: models.NodeState) -> models.SwitchNode:
    node = node_by_name(session, name)
    node.state = state.value
    session.flush()
    return node


def current_node(session: Session, domain: str) -> models.SwitchNode | None:
    """The node a tenant lives on now (None: on no node, or no such tenant)."""
    return session.scalar(
        select(models.SwitchNode)
        .join(models.Tenant, models.Tenant.node_id == models.SwitchNode.id)
        .where(models.Tenant.domain == (domain or "").lower())
    )


def move_tenant(session: Session, domain: str, node_name: str) -> tuple[str | None, models.SwitchNode]:
    """Place a tenant on `node_name` (any node that exists, draining included: the operator's
    explicit choice); returns (the node it left or None, the node it is on now)."""
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == (domain or "").lower()))
    if tenant is None:
        raise NodeError("tenant", f"no tenant with domain {domain!r}")
    node = node_by_name(session, node_name)
    before = session.get(models.SwitchNode, tenant.node_id) if tenant.node_id is not None else None
    tenant.node_id = node.id
    session.flush()
    return (before.name if before is not None else None), node


def drain_moves(session: Session, name: str) -> list[tuple[str, str]]:
    """Move every tenant of node `name` to the other active nodes, each to the one with the fewest
    tenants at that moment (ties: lowest id); [(domain, new node)]. Refused when no other active
    node exists. The node itself is set draining first."""
    node = set_state(session, name, models.NodeState.DRAINING)
    tenants = session.scalars(
        select(models.Tenant).where(models.Tenant.node_id == node.id).order_by(models.Tenant.id)
    ).all()
    moves = []
    for tenant in tenants:
        target = least_loaded_node(session, exclude=node.id)
        if target is None:
            raise NodeError("node", f"no other active node to move {name!r}'s tenants to")
        tenant.node_id = target.id
        session.flush()
        moves.append((tenant.domain, target.name))
    return moves


def remove_node(session: Session, name: str) -> None:
    node = node_by_name(session, name)
    count = tenant_counts(session).get(node.id, 0)
    if count:
        raise NodeError(
            "node",
            f"node {name!r} still has {count} tenant(s): move them first"
            f" (`fsctl nodes drain {name} --move` or `fsctl nodes move DOMAIN NODE`)",
        )
    session.delete(node)
    session.flush()


def unplaced_tenants(session: Session) -> int:
    """How many tenants are on no node (created while kumo was a single switch)."""
    return session.scalar(
        select(func.count()).select_from(models.Tenant).where(models.Tenant.node_id.is_(None))
    )


def place_unplaced(session: Session) -> list[tuple[str, str]]:
    """Put every tenant on no node on the active nodes, each on the one with the fewest tenants at
    that moment (oldest tenant first); [(domain, node)]. What turns a single switch into a cluster."""
    tenants = session.scalars(
        select(models.Tenant).where(models.Tenant.node_id.is_(None)).order_by(models.Tenant.id)
    ).all()
    placed = []
    for tenant in tenants:
        node = least_loaded_node(session)
        if node is None:
            raise NodeError("node", "no active node to place tenants on (add one with `fsctl nodes add`)")
        tenant.node_id = node.id
        session.flush()
        placed.append((tenant.domain, node.name))
    return placed
