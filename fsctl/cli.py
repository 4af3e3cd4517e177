"""The `fsctl` command: serve, apply, export, numbers, db, seed-demo (and trace)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import yaml

from fsctl.billing.cli import add_billing_commands
from fsctl.cluster.cli import add_node_commands
from fsctl.config import PROJECT_ROOT, SettingError, Settings, file_umask, parse_listen, settings_from_env
from fsctl.fax.cli import add_fax_commands
from fsctl.gateways.cli import add_gateway_commands
from fsctl.media.cli import add_media_commands
from fsctl.security.cli import add_security_commands
from fsctl.trace import add_trace_command, run_trace

log = logging.getLogger(__name__)

DEMO_FILE = PROJECT_ROOT / "dialplans" / "examples" / "demo.yaml"


def _settings(args: argparse.Namespace) -> Settings:
    try:
        settings = settings_from_env()
    except SettingError as exc:
        raise SystemExit(f"fsctl: {exc}") from None
    return settings.with_overrides(
        database_url=getattr(args, "database_url", None),
        http_listen=parse_listen(args.http_listen, 8080) if getattr(args, "http_listen", None) else None,
        http_workers=getattr(args, "workers", None),
    )


def _session_factory(settings: Settings):
    from fsctl.db import make_engine, make_session_factory, sqlite_file

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        # Only `fsctl db upgrade` creates the database: say so instead of a traceback.
        raise SystemExit(f"fsctl: no database at {path}; create it with `fsctl db upgrade`")
    return make_session_factory(make_engine(settings.database_url))


def _check_database(settings: Settings) -> None:
    """Say at start when the database is missing or unmigrated; /healthz keeps saying it (503)."""
    from fsctl.xmlcurl.store import LookupStore

    store = LookupStore(settings.database_url)
    try:
        state = store.database_state()
    finally:
        store.dispose()
    if state != "ok":
        log.error(
            "database %s: %s; lookups answer not found until `fsctl db upgrade` has run",
            settings.database_url.split("@")[-1],
            state,
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from gevent import monkey

    monkey.patch_all()
    from fsctl.secrets import resolve_service_secrets
    from fsctl.service import Service

    settings = resolve_service_secrets(_settings(args))
    if args.upgrade:
        from fsctl import migrate

        migrate.upgrade(settings.database_url)
    _check_database(settings)
    Service(settings, with_esl=not args.no_esl).run()
    return 0


def _load_yaml(path: str) -> object:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def apply_file(settings: Settings, path: str, actor: str = "fsctl") -> int:
    """Apply one tenant file in one transaction; print every error by its path and change nothing on error."""
    try:
        raw = _load_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        print(f"{path}: cannot read: {exc}", file=sys.stderr)
        return 2
    return apply_file_document(settings, raw, actor, path)


def apply_file_document(settings: Settings, raw: object, actor: str = "fsctl", path: str = "-") -> int:
    """apply_file for a document already read."""
    from fsctl.db import session_scope
    from fsctl.tenant_file import ConfigError
    from fsctl.wiring import tenant_file

    factory = _session_factory(settings)
    try:
        with session_scope(factory) as session:
            result = tenant_file().apply(session, raw, actor=actor)
            if not result.changed:
                session.rollback()
    except ConfigError as exc:
        print(f"{path}: refused, nothing was changed:", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    verb = "created" if result.created else ("updated" if result.changed else "unchanged")
    print(f"{result.domain}: {verb}")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    return apply_file(_settings(args), args.file)


def cmd_export(args: argparse.Namespace) -> int:
    from fsctl.db import session_scope, tenant_by_domain
    from fsctl.wiring import tenant_file

    with session_scope(_session_factory(_settings(args))) as session:
        tenant = tenant_by_domain(session, args.domain)
        if tenant is None:
            print(f"no tenant with domain {args.domain}", file=sys.stderr)
            return 1
        document = tenant_file().export(tenant)
    text = (
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        if not args.json
        else json.dumps(document, ensure_ascii=False, indent=2)
    )
    sys.stdout.write(text)
    return 0


def cmd_numbers_add(args: argparse.Namespace) -> int:
    from fsctl.inventory import add_numbers
    from fsctl.numbers import NumberError

    try:
        added, existing = add_numbers(_session_factory(_settings(args)), args.range)
    except NumberError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"added {added} number(s); {existing} already in the inventory")
    return 0


def cmd_numbers_list(args: argparse.Namespace) -> int:
    from fsctl.inventory import list_numbers

    for row in list_numbers(_session_factory(_settings(args)), free_only=args.free):
        print("\t".join(row))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from fsctl import migrate

    settings = _settings(args)
    migrate.upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def cmd_secrets_fs_vars(args: argparse.Namespace) -> int:
    """Print the vars.d/ include holding the credentials `fsctl serve` uses (generating them if new)."""
    from fsctl.secrets import fs_vars

    try:
        sys.stdout.write(fs_vars(_settings(args)))
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """The demo tenant, with SIP passwords generated into the instance folder on first use: the
    placeholders in demo.yaml never become working credentials."""
    from fsctl.devrun import demo_document

    settings = _settings(args)
    return apply_file_document(settings, demo_document(settings.instance_dir), "seed-demo", str(DEMO_FILE))


def cmd_run(args: argparse.Namespace) -> int:
    """`make run`: demo tenant, service, panel and (when found) the switch, until Ctrl-C."""
    from fsctl.devrun import run

    return run(_settings(args), apply_file_document, _session_factory)


def cmd_panel(args: argparse.Namespace) -> int:
    """Run the customer control panel. A new process, not an import: fsctl never imports webpanel."""
    import os

    argv = [sys.executable, "-m", "webpanel"]
    if args.listen:
        argv += ["--listen", args.listen]
    if args.upgrade:
        argv.append("--upgrade")
    if getattr(args, "database_url", None):
        os.environ["DATABASE_URL"] = args.database_url
    os.execv(sys.executable, argv)
    return 0  # not reached


def cmd_operator_create(args: argparse.Namespace) -> int:
    """Create a platform operator's panel account; the password comes from stdin or a prompt."""
    import getpass

    from fsctl.accounts import create_operator
    from fsctl.db import session_scope

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    try:
        with session_scope(_session_factory(_settings(args))) as session:
            create_operator(session, args.email, password)
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"operator {args.email.strip().lower()} created")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fsctl", description="kumo: multi-tenant cloud PBX on FreeSWITCH")
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or instance/kumo.sqlite3)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="answer FreeSWITCH lookups and run the event socket")
    serve.add_argument(
        "--http-listen", help="host:port for /fs/xml (default $FSCTL_HTTP_LISTEN or 127.0.0.1:8080)"
    )
    serve.add_argument("--workers", type=int, help="HTTP worker processes (default: one per core)")
    serve.add_argument("--no-esl", action="store_true", help="do not connect to FreeSWITCH's event socket")
    serve.add_argument("--upgrade", action="store_true", help="migrate the database before serving")
    serve.set_defaults(func=cmd_serve)

    apply = sub.add_parser("apply", help="create or update a whole tenant from a YAML file ('-' = stdin)")
    apply.add_argument("file")
    apply.set_defaults(func=cmd_apply)

    export = sub.add_parser("export", help="write a tenant back in the apply format")
    export.add_argument("domain")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_export)

    numbers = sub.add_parser("numbers", help="the platform's number inventory")
    numbers_sub = numbers.add_subparsers(dest="numbers_command", required=True)
    add = numbers_sub.add_parser("add", help="add numbers: 0362800000-0362800099 or one number")
    add.add_argument("range")
    add.set_defaults(func=cmd_numbers_add)
    listing = numbers_sub.add_parser("list", help="list the inventory")
    listing.add_argument("--free", action="store_true", help="only numbers no tenant holds")
    listing.set_defaults(func=cmd_numbers_list)

    database = sub.add_parser("db", help="database schema")
    database_sub = database.add_subparsers(dest="db_command", required=True)
    database_sub.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)

    secrets_parser = sub.add_parser("secrets", help="credentials shared with FreeSWITCH")
    secrets_sub = secrets_parser.add_subparsers(dest="secrets_command", required=True)
    secrets_sub.add_parser(
        "fs-vars", help="print the switch's vars.d/ include with them (make fs-config installs it)"
    ).set_defaults(func=cmd_secrets_fs_vars)

    sub.add_parser(
        "seed-demo", help="apply dialplans/examples/demo.yaml (SIP passwords generated into instance/)"
    ).set_defaults(func=cmd_seed_demo)
    sub.add_parser(
        "run", help="make run: the demo PBX in the foreground (service, panel, a local FreeSWITCH if any)"
    ).set_defaults(func=cmd_run)

    panel = sub.add_parser(
        "panel", help="run the customer control panel (default $WEBPANEL_LISTEN or 127.0.0.1:8000)"
    )
    panel.add_argument("--listen", help="host:port")
    panel.add_argument("--upgrade", action="store_true", help="migrate the database before serving")
    panel.set_defaults(func=cmd_panel)
    operator = sub.add_parser("operator", help="platform operator accounts of the panel")
    operator_sub = operator.add_subparsers(dest="operator_command", required=True)
    create = operator_sub.add_parser("create", help="create an operator account")
    create.add_argument("email")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(func=cmd_operator_create)

    add_trace_command(sub).set_defaults(func=lambda args: run_trace(args, _settings(args)))
    add_billing_commands(sub, lambda args: _session_factory(_settings(args)))
    add_media_commands(sub, lambda args: _session_factory(_settings(args)))
    add_fax_commands(sub, lambda args: _session_factory(_settings(args)))
    add_gateway_commands(sub, lambda args: _session_factory(_settings(args)))
    add_security_commands(sub, lambda args: _session_factory(_settings(args)))
    add_node_commands(sub, lambda args: _session_factory(_settings(args)), _settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fsctl` console script."""
    args = build_parser().parse_args(argv)
    if args.command != "prompts":
        # Everything else kumo writes is private; prompts and their phrase XML are
        # the switch's sound files, made for FreeSWITCH's own user to read.
        os.umask(file_umask())
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from fsctl.logutil import limit_repeats

    limit_repeats()  # a flood of refused lookups or failing posts logs a few lines, then a count
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
