"""Settings from environment variables, with defaults that run locally."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "kumo.sqlite3"


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Settings:
    """Every knob the service reads; tests build one directly instead of patching os.environ."""

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    http_listen: tuple[str, int] = ("127.0.0.1", 8080)
    # "user:password" that mod_xml_curl sends as `gateway-credentials`; None = no HTTP auth.
    xml_curl_auth: str | None = None
    esl_address: tuple[str, int] = ("127.0.0.1", 8021)
    esl_password: str = "ClueCon"
    outbound_listen: tuple[str, int] = ("127.0.0.1", 8084)
    # HTTP worker processes for the xml_curl endpoint; 0 = one per CPU core.
    http_workers: int = 0
    # `cacheable` ms on directory users (0 = off): the switch then skips our lookup for that long;
    # every committed change flushes the users it affects over the event socket
    # (fsctl.esl.cache_flush), and while that socket is down users are not served cacheable.
    directory_cache_ms: int = 60_000
    # Tenant routing snapshots kept per worker (~35 KiB for 100 users); a miss costs ~0.4 ms.
    dialplan_cache_tenants: int = 2000
    extra: dict[str, str] = field(default_factory=dict)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (command-line options)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Read the FSCTL_* and DATABASE_URL variables."""
    env = os.environ if environ is None else environ
    defaults = Settings()
    return Settings(
        database_url=env.get("DATABASE_URL") or defaults.database_url,
        http_listen=_split_host_port(env.get("FSCTL_HTTP_LISTEN", "127.0.0.1:8080"), 8080),
        xml_curl_auth=env.get("FSCTL_XML_CURL_AUTH") or None,
        esl_address=_split_host_port(env.get("FSCTL_ESL_ADDRESS", "127.0.0.1:8021"), 8021),
        esl_password=env.get("FSCTL_ESL_PASSWORD", defaults.esl_password),
        outbound_listen=_split_host_port(env.get("FSCTL_OUTBOUND_LISTEN", "127.0.0.1:8084"), 8084),
        http_workers=int(env.get("FSCTL_HTTP_WORKERS", "0")),
        directory_cache_ms=int(env.get("FSCTL_DIRECTORY_CACHE_MS", "60000")),
        dialplan_cache_tenants=int(env.get("FSCTL_DIALPLAN_CACHE_TENANTS", "2000")),
    )


def parse_listen(value: str, default_port: int) -> tuple[str, int]:
    """Parse `host:port` as given on the command line."""
    return _split_host_port(value, default_port)
