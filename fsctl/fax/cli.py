"""`fsctl fax purge`: faxes past their tenant's retention (the one its call recordings follow)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

SessionFactory = Callable[[argparse.Namespace], sessionmaker[Session]]


def cmd_fax_purge(args: argparse.Namespace) -> int:
    from fsctl.db import session_scope
    from fsctl.fax.inbox import purge_faxes
    from fsctl.media.settings import media_settings_from_env

    days = media_settings_from_env().default_retention_days
    with session_scope(args.session_factory(args)) as session:
        purged = purge_faxes(session, days, dt.datetime.now(dt.UTC), args.domain)
    print(f"purged {purged} faxes")
    return 0


def add_fax_commands(sub: argparse._SubParsersAction, session_factory: SessionFactory) -> None:
    """Register `fax purge`; `session_factory(args)` opens the configured database."""
    fax = sub.add_parser("fax", help="FAX to e-mail: the faxes received")
    fax.set_defaults(session_factory=session_factory)
    fax_sub = fax.add_subparsers(dest="fax_command", required=True)
    purge = fax_sub.add_parser(
        "purge", help="delete faxes older than each tenant's retention (that of its call recordings)"
    )
    purge.add_argument("--domain", help="only this tenant")
    purge.set_defaults(func=cmd_fax_purge)
