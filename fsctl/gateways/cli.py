"""`fsctl gateways status DOMAIN`: a tenant's gateways, registration state, channels in use, refusals."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fsctl import db
from fsctl.gateways.panel import gateway_status

SessionFactoryOf = Callable[[argparse.Namespace], sessionmaker[Session]]


def add_gateway_commands(sub: Any, session_factory_of: SessionFactoryOf) -> None:
    """Register `fsctl gateways` on the main parser's subparsers."""
    parser = sub.add_parser("gateways", help="customer gateways: registration, channels in use, refusals")
    gateways_sub = parser.add_subparsers(dest="gateways_command", required=True)
    status = gateways_sub.add_parser("status", help="a tenant's gateways now")
    status.add_argument("domain")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=lambda args: cmd_status(args, session_factory_of(args)))


def _registered(entry: dict[str, Any]) -> str:
    if entry["registered"] is None:
        return f"static {entry['address']} ({', '.join(entry['cidr'])})"
    if entry["registered"]:
        return f"registered from {', '.join(entry['contacts'])}"
    return "NOT registered"


def cmd_status(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    """Print the tenant's gateways; 2 when the domain is unknown."""
    with factory() as session:
        tenant = db.tenant_by_domain(session, args.domain)
        if tenant is None:
            print(f"fsctl gateways: no tenant with domain {args.domain!r}", file=sys.stderr)
            return 2
        status = gateway_status(session, tenant.id)
    if args.json:
        print(json.dumps(status, default=str, ensure_ascii=False, indent=2))
        return 0
    if not status:
        print(f"{args.domain}: no gateways")
    for entry in status:
        print(
            f"{entry['name']}: {_registered(entry)}; {entry['channels_in_use']}/{entry['channels']} channels in use;"
            f" {entry['refused_today']} refused today; numbers {', '.join(entry['numbers']) or '-'}"
        )
    return 0
