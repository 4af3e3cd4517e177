"""Settings from environment variables, with defaults that run locally."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
DEFAULT_SQLITE_PATH = DEFAULT_INSTANCE_DIR / "kumo.sqlite3"
# FSCTL_XML_CURL_AUTH=off: the explicit (and loudly logged) opt-out of HTTP credentials.
AUTH_OFF = "off"


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


class SettingError(ValueError):
    """A setting from the environment that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every knob the service reads; tests build one directly instead of patching os.environ."""

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    http_listen: tuple[str, int] = ("127.0.0.1", 8080)
    # Where kumo keeps what it generates (the credentials below, the panel's secret key), mode 0700.
    instance_dir: Path = DEFAULT_INSTANCE_DIR
    # "user:password" that mod_xml_curl and mod_json_cdr send; None = the one generated in
    # instance_dir (fsctl.secrets); "off" = no HTTP auth at all (explicit opt-out, logged loudly).
    xml_curl_auth: str | None = None
    # The inbound event sockets of every FreeSWITCH node kumo follows (FSCTL_ESL_ADDRESS, comma
    # separated): one connection each, reconnecting on its own (fsctl.esl.nodes).
    esl_addresses: tuple[tuple[str, int], ...] = (("127.0.0.1", 8021),)
    # None = the one generated in instance_dir; there is no well-known default.
    esl_password: str | None = None
    outbound_listen: tuple[str, int] = ("127.0.0.1", 8084)
    # HTTP worker processes for the xml_curl endpoint; 0 = one per CPU core.
    http_workers: int = 0
    # Open HTTP connections per worker (also capped by the open-file limit); past it, the connection
    # that has waited longest for its request is closed (a slowloris client cannot hold them all).
    http_max_connections: int = 1000
    # Seconds a whole request (head and body) may take to arrive, however it trickles in.
    http_request_timeout: float = 10.0
    # Seconds a lookup may spend on the database before it answers "not found" (outcome "timeout"):
    # well under the switch's xml_curl timeout (kumo_xml_timeout, 2 s), so a hung database never
    # holds the switch's threads. Also the statement timeout of the lookup connection (PostgreSQL).
    lookup_timeout: float = 1.0
    # `cacheable` ms on directory users (0 = off): the switch then skips our lookup for that long;
    # every committed change flushes the users it affects over the event socket
    # (fsctl.esl.cache_flush), while that socket is down users are not served cacheable, and a
    # graceful stop flushes everything (the switch then fails closed at once). Bounded to a minute:
    # after a crash (no flush) cached users keep registering at most that long. Tenants stay apart
    # although the switch keys its user cache on key+user+domain only: the phones' profile
    # challenges a request in the realm of the domain it is addressed to (challenge-realm auto_to,
    # freeswitch/sip_profiles/internal.xml), so a phone of one tenant is checked as a user of the
    # other and refused. Limit: sofia accepts an answer in any realm, and a crafted client answering
    # in its own realm is refused by kumo's lookup only, which a cached user skips (a registration
    # so made is removed when sofia reports it, fsctl.security.auth_events; a busy-lamp subscription
    # raises no such event): so caching stays off by default. Behind kumo's Kamailio, which refuses
    # an answer in another realm than the To's domain before any node sees it (kamailio/README.md),
    # with the nodes reachable only through it, an operator may turn it on (60000 measured at
    # 1.1-1.3x static XML's cost per REGISTER, bench/README.md), or where the phones are trusted.
    directory_cache_ms: int = 0
    # Tenant routing snapshots kept per worker (~37 KiB for 100 users, so ~370 MiB per worker when
    # 10,000 tenants are all cached); a miss costs ~0.4-0.7 ms of CPU. Lookups pick tenants at random,
    # so a cache smaller than the tenants called misses on most lookups: size it to hold them all.
    dialplan_cache_tenants: int = 10_000
    # Each worker loads every tenant's snapshot (up to dialplan_cache_tenants) in the background
    # when it starts, between lookups (DialplanResponder.warm), so a restarted service does not
    # answer its first 10,000 carrier calls at miss cost; off for tests that count loads.
    dialplan_warm: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def esl_address(self) -> tuple[str, int]:
        """The first node's event socket: what a single local switch (`make run`) listens on."""
        return self.esl_addresses[0]

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
        instance_dir=Path(env.get("FSCTL_INSTANCE_DIR") or defaults.instance_dir),
        xml_curl_auth=env.get("FSCTL_XML_CURL_AUTH") or None,
        esl_addresses=parse_esl_addresses(env.get("FSCTL_ESL_ADDRESS") or "127.0.0.1:8021"),
        esl_password=env.get("FSCTL_ESL_PASSWORD") or None,
        outbound_listen=_split_host_port(env.get("FSCTL_OUTBOUND_LISTEN", "127.0.0.1:8084"), 8084),
        http_workers=int(env.get("FSCTL_HTTP_WORKERS", "0")),
        http_max_connections=int(env.get("FSCTL_HTTP_MAX_CONNECTIONS", "1000")),
        http_request_timeout=float(env.get("FSCTL_HTTP_REQUEST_TIMEOUT", "10")),
        lookup_timeout=float(env.get("FSCTL_LOOKUP_TIMEOUT", "1")),
        directory_cache_ms=int(env.get("FSCTL_DIRECTORY_CACHE_MS", "0")),
        dialplan_cache_tenants=int(env.get("FSCTL_DIALPLAN_CACHE_TENANTS", "10000")),
        dialplan_warm=env.get("FSCTL_DIALPLAN_WARM", "1") not in ("0", "off", "false", "no"),
    )


def parse_esl_addresses(value: str, variable: str = "FSCTL_ESL_ADDRESS") -> tuple[tuple[str, int], ...]:
    """`host:port[,host:port...]` (port 8021 when left out) as a tuple of addresses, in order, each once."""
    addresses: list[tuple[str, int]] = []
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            raise SettingError(
                f"{variable}: an empty entry in {value!r} (separate host:port entries by commas)"
            )
        try:
            address = _split_host_port(entry, 8021)
        except ValueError:
            raise SettingError(f"{variable}: {entry!r} is not host:port (port 1-65535)") from None
        if not address[0] or not 0 < address[1] < 65536 or any(c.isspace() for c in address[0]):
            raise SettingError(f"{variable}: {entry!r} is not host:port (port 1-65535)")
        if address in addresses:
            raise SettingError(f"{variable}: {entry!r} is listed twice")
        addresses.append(address)
    return tuple(addresses)


# FSCTL_SHARED_STORAGE_DIR: one folder that every FreeSWITCH node and every kumo instance mounts at
# the same path (NFS, CephFS...), so a tenant moved to another node keeps its voicemail files,
# recordings, faxes and uploaded audio. Each kind lives in its own subfolder; a kind's own variable
# still wins. Unset: each kind's own default, as on a single switch.
SHARED_STORAGE_SUBDIRS = {
    "FSCTL_VOICEMAIL_DIR": "voicemail",
    "FSCTL_RECORDINGS_DIR": "recordings",
    "FSCTL_FAX_DIR": "fax",
    "FSCTL_AUDIO_DIR": "audio",
}
# The switch's global variables naming the same folders (freeswitch/vars.xml); the voicemail folder
# reaches the switch in kumo's voicemail.conf answer (fsctl.media.vm_config), not as a variable.
SWITCH_STORAGE_VARS = {
    "FSCTL_RECORDINGS_DIR": "kumo_recordings_dir",
    "FSCTL_FAX_DIR": "kumo_fax_dir",
    "FSCTL_AUDIO_DIR": "kumo_audio_dir",
}


def storage_dir(variable: str, default: str, environ: dict[str, str] | None = None) -> str:
    """A storage folder: its own variable, else its subfolder of FSCTL_SHARED_STORAGE_DIR, else `default`."""
    env = os.environ if environ is None else environ
    own = env.get(variable)
    if own:
        return own
    shared = env.get("FSCTL_SHARED_STORAGE_DIR")
    if shared:
        return str(Path(shared) / SHARED_STORAGE_SUBDIRS[variable])
    return default


def file_umask(environ: dict[str, str] | None = None) -> int:
    """The umask kumo's processes set at start (FSCTL_UMASK, octal; default 077: files 0600, dirs 0700).

    The database, invoices, audio uploads and generated secrets hold personal data and credentials,
    so nobody else on the machine reads them. When FreeSWITCH runs as another user and must read the
    audio folder, set 027 and give both users one group.
    """
    env = os.environ if environ is None else environ
    return int(env.get("FSCTL_UMASK") or "077", 8) & 0o777


def parse_listen(value: str, default_port: int) -> tuple[str, int]:
    """Parse `host:port` as given on the command line."""
    return _split_host_port(value, default_port)
