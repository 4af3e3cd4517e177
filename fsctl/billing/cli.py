"""`fsctl cdr import|rate`, `fsctl invoices`, `fsctl billing account|charge` (wired into fsctl.cli)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models

FactoryOf = Callable[[argparse.Namespace], sessionmaker[Session]]


def _tenant(session: Session, domain: str) -> models.Tenant | None:
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
    if tenant is None:
        print(f"{domain}: no such tenant", file=sys.stderr)
    return tenant


def cmd_cdr_import(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    from fsctl.cdr.spool import import_spool
    from fsctl.cdr.store import CdrStore

    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    result = import_spool(directory, CdrStore(factory.kw["bind"], factory))
    print(f"{directory}: {result.summary()}")
    return 0


def cmd_cdr_rate(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    from fsctl.billing.prices import load_prices
    from fsctl.billing.rating import rate_unrated
    from fsctl.billing.settings import billing_settings_from_env

    count = rate_unrated(factory.kw["bind"], load_prices(billing_settings_from_env().prices_file))
    print(f"{count} call legs rated")
    return 0


def cmd_invoices(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    from fsctl.billing.close import BillingError
    from fsctl.billing.invoices import run_invoices
    from fsctl.billing.settings import billing_settings_from_env
    from fsctl.billing.statement import Month

    try:
        month = Month.parse(args.month)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = billing_settings_from_env().with_overrides(out_dir=Path(args.out) if args.out else None)
    try:
        run = run_invoices(
            factory.kw["bind"],
            factory,
            month,
            settings,
            preview_only=args.preview,
            send_email=not args.no_email,
        )
    except BillingError as exc:
        print(f"{month}: {exc}", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as exc:  # smtplib's errors are OSErrors
        # The month is closed and the files are written; running the command again sends what is missing.
        print(f"{month}: closed, but the invoices were not all e-mailed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(
            {"month": run.month, "closed": run.closed, "statements": run.statements},
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
    else:
        print(run.summary())
    if run.failed:
        print(f"{month}: {len(run.failed)} statements failed, see above", file=sys.stderr)
        return 1
    return 0


def cmd_billing_account(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    from fsctl.billing.subscriptions import set_billing_account
    from fsctl.db import session_scope
    from fsctl.wiring import billable_items

    with session_scope(factory) as session:
        tenant = _tenant(session, args.domain)
        if tenant is None:
            return 1
        account = set_billing_account(
            session, tenant, email=args.email, paper_invoice=args.paper, billable=billable_items()
        )
        print(
            f"{tenant.domain}: invoices to {account.email or '(no address)'}, "
            f"paper invoice {'on' if account.paper_invoice else 'off'}"
        )
    return 0


def cmd_billing_charge(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    from fsctl.billing.subscriptions import add_one_off, today_for
    from fsctl.db import session_scope

    with session_scope(factory) as session:
        tenant = _tenant(session, args.domain)
        if tenant is None:
            return 1
        day = dt.date.fromisoformat(args.on) if args.on else today_for(tenant)
        try:
            amount = add_one_off(session, tenant.id, args.kind, args.subject, day)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{tenant.domain}: {args.kind} {args.subject} on {day}: ¥{amount:,} (tax excluded)")
    return 0


def add_billing_commands(sub: argparse._SubParsersAction, factory_of: FactoryOf) -> None:
    """Register the CDR and billing commands on the fsctl parser."""

    def bind(parser: argparse.ArgumentParser, func) -> None:
        parser.set_defaults(func=lambda args: func(args, factory_of(args)))

    cdr = sub.add_parser("cdr", help="call records")
    cdr_sub = cdr.add_subparsers(dest="cdr_command", required=True)
    spool = cdr_sub.add_parser("import", help="import CDR files the switch spooled to err-log-dir")
    spool.add_argument("directory")
    bind(spool, cmd_cdr_import)
    bind(cdr_sub.add_parser("rate", help="rate every call leg not rated yet"), cmd_cdr_rate)

    invoices = sub.add_parser("invoices", help="close a month: statements, PDFs, e-mail, CSV")
    invoices.add_argument("--month", required=True, help="YYYY-MM")
    invoices.add_argument("--json", action="store_true", help="print every statement as JSON")
    invoices.add_argument("--preview", action="store_true", help="an open month as it stands; closes nothing")
    invoices.add_argument("--no-email", action="store_true", help="close and write files, send no e-mail")
    invoices.add_argument(
        "--out", help="folder for PDFs/CSV (default FSCTL_INVOICE_DIR or instance/invoices)"
    )
    bind(invoices, cmd_invoices)

    billing = sub.add_parser("billing", help="billing accounts and one-off charges")
    billing_sub = billing.add_subparsers(dest="billing_command", required=True)
    account = billing_sub.add_parser("account", help="billing e-mail address and paper invoice option")
    account.add_argument("domain")
    account.add_argument("--email")
    account.add_argument("--paper", action=argparse.BooleanOptionalAction, default=None)
    bind(account, cmd_billing_account)
    charge = billing_sub.add_parser("charge", help="record a one-off fee (e.g. toll-free porting)")
    charge.add_argument("domain")
    charge.add_argument("kind", choices=("porting_toll_free", "cancel_number", "cancel_toll_free"))
    charge.add_argument("subject", help="the number concerned")
    charge.add_argument("--on", help="YYYY-MM-DD (default: today in the tenant's timezone)")
    bind(charge, cmd_billing_charge)
