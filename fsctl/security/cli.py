"""`fsctl bans ...` (and `fsctl limits ...`): the operator's view of the defences."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from fsctl.security import bans
from fsctl.security.settings import security_settings_from_env

SessionFactoryOf = Callable[[argparse.Namespace], Any]


def add_security_commands(sub: Any, session_factory_of: SessionFactoryOf) -> None:
    """Register `fsctl bans` (and `fsctl limits`) on the main parser's subparsers."""
    parser = sub.add_parser("bans", help="brute-force bans: list, lift, purge, nft")
    bans_sub = parser.add_subparsers(dest="bans_command", required=True)
    listing = bans_sub.add_parser("list", help="active bans (--all: expired ones too)")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=lambda args: cmd_list(args, session_factory_of(args)))
    add = bans_sub.add_parser(
        "add", help="ban every user from an IP now (kumo's directory and, in a cluster, Kamailio refuse it)"
    )
    add.add_argument("ip")
    add.add_argument("--seconds", type=int, help="how long (default: FSCTL_BAN_SECONDS, 3600)")
    add.add_argument("--reason", default="", help="shown in `fsctl bans list` and the panel")
    add.set_defaults(func=lambda args: cmd_add(args, session_factory_of(args)))
    lift = bans_sub.add_parser("lift", help="end a ban now: by id, or every ban of --ip")
    lift.add_argument("id", nargs="?", type=int)
    lift.add_argument("--ip")
    lift.set_defaults(func=lambda args: cmd_lift(args, session_factory_of(args)))
    purge = bans_sub.add_parser("purge", help="delete old failure counters and long-expired bans")
    purge.set_defaults(func=lambda args: cmd_purge(args, session_factory_of(args)))
    nft = bans_sub.add_parser("nft", help="print an `nft -f` script loading the IP bans into an nftables set")
    nft.add_argument("--table", default="inet kumo")
    nft.add_argument("--set", dest="set_name", default="sip_banned")
    nft.set_defaults(func=lambda args: cmd_nft(args, session_factory_of(args)))

    limits = sub.add_parser("limits", help="per-tenant external call caps and spend alerts (operator)")
    limits_sub = limits.add_subparsers(dest="limits_command", required=True)
    show = limits_sub.add_parser("show", help="a tenant's caps")
    show.add_argument("domain")
    show.set_defaults(func=lambda args: cmd_limits_show(args, session_factory_of(args)))
    change = limits_sub.add_parser("set", help="change a tenant's caps")
    change.add_argument("domain")
    change.add_argument("--rate", help="new external calls per interval: N/SECONDS (0/1 = no rate cap)")
    change.add_argument("--user-calls", type=int, help="concurrent external calls per extension (0 = none)")
    change.add_argument("--spend-cap", type=int, help="yen of outbound charges per 5 minutes that alert")
    change.add_argument("--suspend-on-alert", choices=("yes", "no"))
    change.set_defaults(func=lambda args: cmd_limits_set(args, session_factory_of(args)))
    resume = limits_sub.add_parser("resume", help="re-enable external calls after a spend suspension")
    resume.add_argument("domain")
    resume.set_defaults(func=lambda args: cmd_limits_resume(args, session_factory_of(args)))

    spend = sub.add_parser("spend", help="spend anomaly alerts (the service checks every 15 s by itself)")
    spend_sub = spend.add_subparsers(dest="spend_command", required=True)
    check = spend_sub.add_parser("check", help="check the last 5 minutes once now (alerts, mails, suspends)")
    check.set_defaults(func=lambda args: cmd_spend_check(args, session_factory_of(args)))


def cmd_list(args: argparse.Namespace, session_factory: Any) -> int:
    with session_factory() as session:
        views = bans.list_bans(session, include_expired=args.all)
    if args.json:
        print(json.dumps([_as_dict(v) for v in views], ensure_ascii=False, indent=2))
        return 0
    if not views:
        print("no bans")
    for v in views:
        state = "active" if v.active else "expired"
        print(f"{v.id:>6}  {v.subject:<48} until {v.until:%Y-%m-%d %H:%M:%S} UTC  {state}  ({v.reason})")
    return 0


def _as_dict(view: bans.BanView) -> dict[str, Any]:
    return {
        "id": view.id,
        "ip": view.ip,
        "domain": view.domain,
        "username": view.username,
        "created_at": view.created_at.isoformat(),
        "until": view.until.isoformat(),
        "failures": view.failures,
        "reason": view.reason,
        "active": view.active,
    }


def cmd_add(args: argparse.Namespace, session_factory: Any) -> int:
    seconds = args.seconds if args.seconds is not None else security_settings_from_env().ban_seconds
    with session_factory() as session:
        try:
            ban = bans.add_ip_ban(session, args.ip, seconds, "fsctl", args.reason)
        except ValueError as exc:
            print(f"fsctl bans add: {exc}", file=sys.stderr)
            return 2
        view = bans.ban_view(ban)
    print(f"{view.id:>6}  {view.subject} until {view.until:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def cmd_lift(args: argparse.Namespace, session_factory: Any) -> int:
    if args.id is None and not args.ip:
        print("fsctl bans lift: name a ban id or --ip ADDRESS")
        return 2
    with session_factory() as session:
        lifted = bans.lift_bans(session, "fsctl", ban_id=args.id, ip=args.ip)
    print(f"{lifted} ban(s) lifted")
    return 0 if lifted else 1


def cmd_purge(_args: argparse.Namespace, session_factory: Any) -> int:
    with session_factory() as session:
        failures, old = bans.purge(session, security_settings_from_env())
    print(f"deleted {failures} failure counter(s) and {old} expired ban(s)")
    return 0


def cmd_nft(args: argparse.Namespace, session_factory: Any) -> int:
    with session_factory() as session:
        views = bans.list_bans(session)
    print(bans.nft_script(views, args.table, args.set_name), end="")
    return 0


def _print_limits(view: Any) -> None:
    rate = "none" if view.calls_per_interval == 0 else f"{view.calls_per_interval}/{view.interval_seconds}s"
    print(
        f"{view.domain}: external call rate {rate}, per extension {view.user_external_calls or 'no cap'},"
        f" spend cap {view.spend_cap_yen if view.spend_cap_yen is not None else '-'} yen/5 min,"
        f" suspend on alert {'yes' if view.suspend_on_alert else 'no'},"
        f" external calls {'SUSPENDED' if view.external_suspended else 'allowed'}"
    )


def cmd_limits_show(args: argparse.Namespace, session_factory: Any) -> int:
    from fsctl.security.tenant_limits import get_limits

    with session_factory() as session:
        _print_limits(get_limits(session, args.domain))
    return 0


def cmd_limits_set(args: argparse.Namespace, session_factory: Any) -> int:
    from fsctl.security.tenant_limits import set_limits

    changes: dict[str, Any] = {}
    if args.rate:
        calls, _, seconds = args.rate.partition("/")
        changes["calls_per_interval"], changes["interval_seconds"] = int(calls), int(seconds or 1)
    if args.user_calls is not None:
        changes["user_external_calls"] = args.user_calls
    if args.spend_cap is not None:
        changes["spend_cap_yen"] = args.spend_cap
    if args.suspend_on_alert:
        changes["suspend_on_alert"] = args.suspend_on_alert == "yes"
    with session_factory() as session:
        _print_limits(set_limits(session, args.domain, "fsctl", **changes))
    return 0


def cmd_limits_resume(args: argparse.Namespace, session_factory: Any) -> int:
    from fsctl.security.tenant_limits import get_limits, set_external_suspended

    with session_factory() as session:
        view = get_limits(session, args.domain)
        changed = set_external_suspended(
            session, view.tenant_id, False, "fsctl", "re-enabled by the operator"
        )
    print(f"{args.domain}: external calls {'re-enabled' if changed else 'were not suspended'}")
    return 0


def cmd_spend_check(_args: argparse.Namespace, session_factory: Any) -> int:
    from fsctl.security.spend import SpendWatcher

    alerts = SpendWatcher(session_factory, security_settings_from_env()).tick()
    for alert in alerts:
        print(f"{alert.domain}: {alert.reason}{' (external calls suspended)' if alert.suspended else ''}")
    if not alerts:
        print("no tenant above its spend limits")
    return 0
