"""`fsctl nodes`: the switch nodes of a cluster behind Kamailio and the placement of tenants."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fsctl import cluster, db, models
from fsctl.config import Settings

SessionFactoryOf = Callable[[argparse.Namespace], sessionmaker[Session]]
SettingsOf = Callable[[argparse.Namespace], Settings]

# The argument each NodeError field comes from, as the command line spells it.
_ARGUMENT = {
    "name": "NAME",
    "sip": "--sip",
    "carrier": "--carrier",
    "esl": "--esl",
    "node": "NODE",
    "tenant": "TENANT_DOMAIN",
}

_AFTER_MOVE = (
    "Kamailio sends {domain}'s next REGISTER and next new call to {node}; calls up now finish where"
    " they are. Phones move as they refresh their registration: until then only the old node has"
    " them registered, and a call to them on {node} finds them unregistered"
    " (`fsctl nodes move ... --resync-phones` has the old node make them register again now)."
)


def add_node_commands(sub: Any, session_factory_of: SessionFactoryOf, settings_of: SettingsOf) -> None:
    """Register `fsctl nodes` on the main parser's subparsers."""
    parser = sub.add_parser(
        "nodes",
        help="FreeSWITCH nodes behind Kamailio and which node each tenant lives on",
        description="FreeSWITCH nodes behind Kamailio. Each tenant lives on one node; with no node"
        " defined kumo is a single switch. Kamailio reads the placement from the database at every"
        " new request.",
    )
    nodes_sub = parser.add_subparsers(dest="nodes_command", required=True)

    def command(name: str, func: Callable[[argparse.Namespace, Session], int], **kwargs: Any):
        child = nodes_sub.add_parser(name, **kwargs)
        child.set_defaults(func=lambda args: _run(args, session_factory_of(args), func))
        return child

    add = command(
        "add", _cmd_add, help="add a node (active: it takes new tenants)", description=_ADD_DESCRIPTION
    )
    add.add_argument("name", metavar="NAME", help="the node's FreeSWITCH switchname (kumo_node_name)")
    add.add_argument("--sip", required=True, metavar="HOST:PORT", help="its internal profile (phones)")
    add.add_argument("--carrier", required=True, metavar="HOST:PORT", help="its carrier profile")
    add.add_argument(
        "--esl",
        default="",
        metavar="HOST:PORT",
        help="its event socket (for `nodes status` and `move --resync-phones`)",
    )

    listing = command("list", _cmd_list, help="the nodes, their state, addresses and tenants")
    listing.add_argument("--json", action="store_true")

    drain = command(
        "drain",
        _cmd_drain,
        help="stop placing new tenants on a node (it keeps its tenants unless --move)",
    )
    drain.add_argument("name", metavar="NAME")
    drain.add_argument(
        "--move",
        action="store_true",
        help="also move its tenants to the other active nodes, each to the one with the fewest tenants",
    )
    activate = command("activate", _cmd_activate, help="let a drained node take new tenants again")
    activate.add_argument("name", metavar="NAME")

    move = command(
        "move",
        lambda args, session: _cmd_move(args, session, settings_of(args)),
        help="put a tenant on another node",
        description="Put a tenant on NODE, any node that exists (a draining one too: the operator's"
        " explicit choice). The tenant's next REGISTER and next new call go there; calls up now"
        " finish where they are.",
    )
    move.add_argument("domain", metavar="TENANT_DOMAIN")
    move.add_argument("node", metavar="NODE")
    move.add_argument(
        "--resync-phones",
        action="store_true",
        help="after the move, have the old node drop the tenant's registrations and NOTIFY its phones"
        " to register again (check-sync; snom, Yealink, Cisco and Linksys phones reboot on it)",
    )

    command(
        "place",
        _cmd_place,
        help="put every tenant that is on no node on the active nodes (after the first `add`)",
    )

    remove = command("remove", _cmd_remove, help="remove a node that has no tenants left")
    remove.add_argument("name", metavar="NAME")

    status = nodes_sub.add_parser(
        "status",
        help="ask each node's event socket whether it is up (exit 1 when one is not)",
        description="Connect to each node's --esl address with kumo's event socket password and"
        " read `switchname`, `status` and `sofia status`: a node is up when it answers, is UP and"
        " runs both SIP profiles. Exit 1 when a node is not up.",
    )
    status.add_argument("name", metavar="NAME", nargs="?", help="only this node")
    status.add_argument("--json", action="store_true")
    status.add_argument("--timeout", type=float, default=3.0, help="seconds per node (default 3)")
    status.set_defaults(func=lambda args: _cmd_status(args, session_factory_of(args), settings_of(args)))


_ADD_DESCRIPTION = (
    "Add a FreeSWITCH node. NAME is its switchname (lower-case letters, digits, '-'). From now on"
    " new tenants go to the active node with the fewest tenants."
)


def _run(
    args: argparse.Namespace,
    factory: sessionmaker[Session],
    func: Callable[[argparse.Namespace, Session], int],
) -> int:
    try:
        with db.session_scope(factory) as session:
            return func(args, session)
    except cluster.NodeError as exc:
        print(
            f"fsctl nodes {args.nodes_command}: {_ARGUMENT.get(exc.field, exc.field)}: {exc}", file=sys.stderr
        )
        return 2


def _cmd_add(args: argparse.Namespace, session: Session) -> int:
    node = cluster.add_node(session, args.name, args.sip, args.carrier, args.esl)
    print(f"{node.name}: added, active (internal {node.sip_address}, carrier {node.carrier_address})")
    return 0


def _cmd_list(args: argparse.Namespace, session: Session) -> int:
    nodes = cluster.list_nodes(session)
    if args.json:
        print(json.dumps([node.as_dict() for node in nodes], indent=2))
        return 0
    if not nodes:
        print("no nodes: kumo is a single switch (add one with `fsctl nodes add`)")
        return 0
    rows = [("NAME", "STATE", "INTERNAL", "CARRIER", "ESL", "TENANTS")] + [
        (n.name, n.state, n.sip_address, n.carrier_address, n.esl_address or "-", str(n.tenants))
        for n in nodes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    unplaced = cluster.unplaced_tenants(session)
    if unplaced:
        print(
            f"{unplaced} tenant(s) on no node (created before the first node): place them with `fsctl nodes place`"
        )
    return 0


def _cmd_drain(args: argparse.Namespace, session: Session) -> int:
    if args.move:
        moves = cluster.drain_moves(session, args.name)
        for domain, node in moves:
            print(f"{domain}: {args.name} -> {node}")
        print(f"{args.name}: draining, {len(moves)} tenant(s) moved.")
        if moves:
            print(_AFTER_MOVE.format(domain="each moved tenant", node="its new node"))
        return 0
    cluster.set_state(session, args.name, models.NodeState.DRAINING)
    print(f"{args.name}: draining: it keeps its tenants and takes no new ones")
    return 0


def _cmd_activate(args: argparse.Namespace, session: Session) -> int:
    cluster.set_state(session, args.name, models.NodeState.ACTIVE)
    print(f"{args.name}: active: it takes new tenants")
    return 0


def _cmd_move(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    old_node = cluster.current_node(session, args.domain)
    before, node = cluster.move_tenant(session, args.domain, args.node)
    domain = args.domain.lower()
    if before == node.name:
        print(f"{domain}: already on {node.name}")
        return 0
    print(f"{domain}: {before or 'no node'} -> {node.name}")
    if node.state != models.NodeState.ACTIVE.value:
        print(f"note: {node.name} is {node.state}; it serves {domain} all the same")
    print(_AFTER_MOVE.format(domain=domain, node=node.name))
    if not args.resync_phones:
        return 0
    # The move must be committed before the phones register again, or Kamailio sends them back.
    session.commit()
    return _resync_phones(domain, old_node, settings)


def _resync_phones(domain: str, old_node: models.SwitchNode | None, settings: Settings) -> int:
    from fsctl.cluster.status import NodeUnreachable, resync_phones

    if old_node is None:
        print(f"--resync-phones: {domain} was on no node, so no one node holds its phones", file=sys.stderr)
        return 1
    password = _esl_password(settings)
    if password is None:
        print("--resync-phones: no ESL password: set FSCTL_ESL_PASSWORD", file=sys.stderr)
        return 1
    try:
        reply = resync_phones(old_node.name, old_node.esl_address, password, domain)
    except NodeUnreachable as exc:
        print(f"--resync-phones: {old_node.name}: {exc}; the phones move as they refresh", file=sys.stderr)
        return 1
    print(f"{old_node.name}: {reply}; the phones register again on their new node")
    return 0


def _cmd_place(args: argparse.Namespace, session: Session) -> int:
    placed = cluster.place_unplaced(session)
    for domain, node in placed:
        print(f"{domain}: -> {node}")
    print(f"{len(placed)} tenant(s) placed")
    if placed:
        print(_AFTER_MOVE.format(domain="each placed tenant", node="its node"))
    return 0


def _cmd_remove(args: argparse.Namespace, session: Session) -> int:
    cluster.remove_node(session, args.name)
    print(f"{args.name}: removed")
    return 0


def _esl_password(settings: Settings) -> str | None:
    """kumo's event socket password: the setting, else the one `fsctl serve` generated; never a new one."""
    from fsctl.secrets import ESL_PASSWORD_FILE

    if settings.esl_password:
        return settings.esl_password
    path = Path(settings.instance_dir) / ESL_PASSWORD_FILE
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def _cmd_status(args: argparse.Namespace, factory: sessionmaker[Session], settings: Settings) -> int:
    import gevent

    from fsctl.cluster.status import node_health

    with factory() as session:
        try:
            nodes = [cluster.node_by_name(session, args.name)] if args.name else cluster.all_nodes(session)
        except cluster.NodeError as exc:
            print(f"fsctl nodes status: NODE: {exc}", file=sys.stderr)
            return 2
        targets = [(node.name, node.esl_address) for node in nodes]
    password = _esl_password(settings)
    if password is None:
        print(
            "fsctl nodes status: no ESL password: set FSCTL_ESL_PASSWORD (as `fsctl serve` has it)",
            file=sys.stderr,
        )
        return 2
    # Side by side: a node that does not answer costs its timeout once, not once per node after it.
    jobs = [gevent.spawn(node_health, name, address, password, args.timeout) for name, address in targets]
    gevent.joinall(jobs)
    healths = [job.get() for job in jobs]
    if args.json:
        print(json.dumps([h.as_dict() for h in healths], indent=2))
    elif not healths:
        print("no nodes: kumo is a single switch")
    else:
        for h in healths:
            profiles = ", ".join(f"{p} {state}" for p, state in sorted(h.profiles.items()))
            detail = f" ({h.uptime}; {profiles}; {h.sessions})" if h.uptime else ""
            print(f"{h.name}: {'up' if h.up else 'DOWN'}{detail}")
            for problem in h.problems:
                print(f"  {problem}")
    return 0 if all(h.up for h in healths) else 1
