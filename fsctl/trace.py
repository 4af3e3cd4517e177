"""`fsctl trace`: what happens to a call from X to Y at time T, from the same planners that serve FreeSWITCH."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from fsctl.config import Settings
from fsctl.gateways.inbound import trace_from_gateway
from fsctl.numbering import default_plan
from fsctl.numbers import NumberError, to_national
from fsctl.routing.calls import plan_from_carrier, plan_from_phone
from fsctl.routing.plan import Plan
from fsctl.routing.schedules import local_time
from fsctl.routing.screening import PRESENTED
from fsctl.routing.snapshot import TenantSnap
from fsctl.snapshots import Snapshots, session_rows
from fsctl.wiring import routing_steps, snapshots

# A caller without a number, asked for by name (`--from anonymous`, the panel's caller field): how the
# carrier would say why (fsctl.routing.screening.presentation).
NO_NUMBER_CALLERS = {
    "anonymous": "withheld",
    "withheld": "withheld",
    "非通知": "withheld",
    "payphone": "payphone",
    "公衆電話": "payphone",
    "unavailable": "unavailable",
    "表示圏外": "unavailable",
}


class TraceError(ValueError):
    """The question cannot be asked (unknown domain, unreadable time)."""


def parse_at(text: str | None) -> dt.datetime | None:
    """'2026-12-31 20:00' (the tenant's wall clock) or an ISO time with offset; None = now."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError as exc:
        raise TraceError(f"--at: {text!r} is not a time such as 2026-12-31 20:00") from exc


def trace(
    session_factory: sessionmaker[Session],
    domain: str,
    from_: str,
    to: str,
    at: dt.datetime | None = None,
    gateway: str | None = None,
    loader: Snapshots | None = None,
) -> Plan:
    """The plan for a call: from an extension of `domain` (outbound/internal), else from outside to a number.

    The snapshot loader, its feature parts and the routing steps are the dialplan lookups' own
    (fsctl.wiring), so the plan is the one FreeSWITCH would get. `loader`: one whose cache outlives
    this call (the panel's), else a fresh one; snapshots are keyed by config version either way."""
    loader, steps, numbering = loader or snapshots(), routing_steps(), default_plan()
    with session_factory() as session:
        rows = session_rows(session)

        def owner_of(national: str) -> TenantSnap | None:
            return loader.by_number(rows, national)

        tenant = loader.by_domain(rows, domain)
        if tenant is None:
            raise TraceError(f"no tenant with domain {domain!r}")
        # "Now" is the tenant's wall clock (Asia/Tokyo...), so the plan shows the time its people live in.
        now = at or dt.datetime.now(ZoneInfo(tenant.timezone))
        if now.tzinfo is None:
            # A wall-clock time is the tenant's; make it aware so the plan shows the offset.
            now = local_time(now, tenant.timezone)
        if gateway is not None:  # a call arriving from the tenant's own gateway
            plan = trace_from_gateway(tenant, gateway, from_, to, now, numbering=numbering, steps=steps)
            if plan is None:
                raise TraceError(f"{domain} has no gateway named {gateway!r}")
            return plan
        if from_ in tenant.users:
            return plan_from_phone(tenant, from_, to, now, numbering=numbering, steps=steps, on_net=owner_of)
        try:
            national = to_national(to)
        except NumberError:
            national = None
        owner = tenant if national in tenant.numbers else (owner_of(national) if national else None)
        shown = NO_NUMBER_CALLERS.get(from_.strip().lower(), PRESENTED)
        caller = from_ if shown == PRESENTED else ""
        plan = plan_from_carrier(
            owner, to, caller, now, numbering=numbering, steps=steps, national=national, shown=shown
        )
        if shown != PRESENTED:
            plan.caller = from_
        if owner is not None and owner.id != tenant.id:
            plan.decisions.insert(
                0, type(plan.decisions[0])(f"{to} belongs to {owner.domain}", f"not to {domain}")
            )
        return plan


def format_text(plan: Plan) -> str:
    """The plan for a person: who called whom, each decision with its reason, then the dialplan actions."""
    lines = [
        f"call {plan.caller or '(unknown)'} -> {plan.dialled} at {plan.at}",
        f"context {plan.context}, tenant {plan.tenant or '(none)'}, kind {plan.kind}",
    ]
    if plan.refused_by:
        lines.append(f"REFUSED by rule {plan.refused_by}")
    lines.append("decisions:")
    lines.extend(f"  {i}. {d.what}: {d.why}" for i, d in enumerate(plan.decisions, 1))
    lines.append("dialplan actions:")
    lines.extend(f"  {a.app} {a.data}".rstrip() for a in plan.actions)
    return "\n".join(lines) + "\n"


def format_json(plan: Plan) -> str:
    """The plan as JSON (for scripts and the panel)."""
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=2) + "\n"


def add_trace_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `fsctl trace` on an argparse subparsers object."""
    parser = subparsers.add_parser("trace", help="explain what happens to a call from X to Y at time T")
    parser.add_argument("--domain", required=True, help="the tenant, e.g. acme.kumo.test")
    parser.add_argument(
        "--from",
        dest="from_",
        required=True,
        help="an extension of the tenant, an outside number, or a caller without a number:"
        " anonymous (withheld), payphone, unavailable",
    )
    parser.add_argument("--to", required=True, help="what was dialled")
    parser.add_argument(
        "--at", default=None, help='the tenant\'s local time, e.g. "2026-12-31 20:00" (default: now)'
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--gateway", default=None, help="the call arrives from this customer gateway of the tenant"
    )
    parser.set_defaults(func=run_trace)
    return parser


def run_trace(args: argparse.Namespace, settings: Settings) -> int:
    """Run `fsctl trace`; prints the plan, returns the exit status (0 routed, 1 refused, 2 error)."""
    from fsctl.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        plan = trace(
            make_session_factory(engine),
            args.domain,
            args.from_,
            args.to,
            parse_at(args.at),
            gateway=getattr(args, "gateway", None),
        )
    except TraceError as exc:
        print(f"fsctl trace: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    sys.stdout.write(format_json(plan) if args.json else format_text(plan))
    return 1 if plan.refused_by else 0
