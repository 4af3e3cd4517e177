"""Evict exactly the directory users a committed change can affect from the switch's user cache.

Users are served `cacheable` when FSCTL_DIRECTORY_CACHE_MS is set (off by default) so the switch answers most
REGISTERs from its own cache (switch_xml_locate_user_merged in src/switch_xml.c keeps the merged
user under key + user + domain, e.g. "id" "1001" "acme.example", until `cacheable` ms pass). A change
saved anywhere (panel, `fsctl apply`, another instance) must still decide the very next registration,
so this loop, in the service's parent process, watches the tenants' config_version (bumped by every
committed change, fsctl.db) and sends, over the inbound event socket:

- `xml_flush_cache id <extension> <domain>` for every user of each changed tenant, including users
  the change deleted and, when a domain was renamed, the users under the old domain. The switch has
  no per-domain flush (switch_xml_clear_user_cache: one key+user+domain, or everything), so "flush
  the domain" is one command per user; above FLUSH_ALL_ABOVE commands, one `xml_flush_cache`
  without arguments (everything) is cheaper.
- the same commands again REFLUSH_SECONDS later: a lookup answered just before the commit can reach
  the switch just after the first flush and be cached with the old data.
- `xml_flush_cache` (everything) after every (re)connection: changes made while the switch was
  unreachable were not flushed (on_connect).
- `xml_flush_cache` (everything) when the service stops gracefully, after its lookup workers have
  stopped (flush_all_on_stop): the switch then asks kumo again, gets no answer and falls back to the
  deny-all static directory at once, so a stopped kumo fails closed for cached users too. After a
  crash nothing is flushed, and cached users stay usable until FSCTL_DIRECTORY_CACHE_MS ends.
- `xml_flush_cache id <user> <domain>` for a user that just failed a digest authentication
  (security_auth_failures): bans are enforced by the directory refusing the banned
  source's lookups, and a cached user is never looked up, so a guesser could keep trying against
  the cache. After each failure the user's next REGISTER asks kumo again, which refuses a banned
  source. (What remains: a legitimate phone's lookup re-caches the user, and the next guess against
  that cache costs the guesser one more failure, hence one more flush.)
- when a source is banned, at once and with a foreground `api` (evict_banned, told by
  fsctl.security.bans.record_failures before and after the ban is committed): the banned user
  (`xml_flush_cache id <user> <domain>`), or for a whole banned IP everything, since any cached user
  would let that IP in. The failure loop above runs every tick; without this the right password
  from a source banned a moment ago could still be accepted from the cache.

Fallback while the event socket is down: the lookup workers serve users without `cacheable`
(fsctl.xmlcurl.directory reads the parent's connection state), so nothing new is cached that could
not be evicted; what the switch cached before the outage is flushed on reconnection and otherwise
expires after FSCTL_DIRECTORY_CACHE_MS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from fsctl.periodic import PeriodicJob
from fsctl.xmlcurl.directory import EXTENSION_PATTERN, plausible_domain
from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)

# Every committed change bumps one tenant's config_version: each tick compares every tenant's
# (id, config_version) with the last tick's, so no two changes can cancel out (as a count and a
# sum could: one tenant removed while another is bumped), and reads domains only when one moved.
VERSIONS_SQL = "SELECT id, config_version FROM tenants ORDER BY id"
TENANTS_SQL = "SELECT id, domain, config_version FROM tenants"
USERS_SQL = "SELECT extension FROM users WHERE tenant_id = ?"
ALL_USERS_SQL = "SELECT tenant_id, extension FROM users"
LAST_FAILURE_SQL = "SELECT coalesce(max(id), 0) FROM security_auth_failures"
FAILURES_SQL = "SELECT id, domain, username FROM security_auth_failures WHERE id > ? ORDER BY id LIMIT 1000"
FLUSH_ALL = "bgapi xml_flush_cache"
# On stop the flush must be done before the service exits: a foreground command, its reply awaited.
FLUSH_ALL_NOW = "api xml_flush_cache"
# One command per user up to this many per tick; beyond, one flush of everything.
FLUSH_ALL_ABOVE = 500
REFLUSH_SECONDS = 2.0


def flush_user_command(extension: str, domain: str) -> str:
    # The switch caches the user under the key it was found by; kumo serves only key=id
    # (fsctl.xmlcurl.directory), so "id" is the one key to evict.
    return f"bgapi xml_flush_cache id {extension} {domain}"


class DirectoryCacheFlusher:
    def __init__(
        self,
        store: LookupStore,
        send_api: Callable[[str], object],
        interval: float = 0.25,
        reflush_seconds: float = REFLUSH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.send_api = send_api
        self.interval = interval
        self.reflush_seconds = reflush_seconds
        self.clock = clock
        self._versions: list[tuple] | None = None
        # tenant id -> (domain, config_version) and the tenant's extensions ("\n"-joined: ~5 bytes a
        # user, so 1,000,000 users fit in a few MB), as of the last tick.
        self._tenants: dict[int, tuple[str, int]] = {}
        self._users: dict[int, str] = {}
        self._again: list[tuple[float, list[str]]] = []
        self._last_failure = 0
        self._job = PeriodicJob("directory cache flush", interval, self.check_once, quiet=True)

    # -- state -----------------------------------------------------------------------------------
    def _load(self) -> None:
        self._last_failure = self.store.fetch_one(LAST_FAILURE_SQL)[0]
        self._versions = [tuple(row) for row in self.store.fetch_all(VERSIONS_SQL)]
        self._tenants = {tid: (domain, version) for tid, domain, version in self.store.fetch_all(TENANTS_SQL)}
        users: dict[int, list[str]] = {}
        for tenant_id, extension in self.store.fetch_all(ALL_USERS_SQL):
            users.setdefault(tenant_id, []).append(extension)
        self._users = {tid: "\n".join(sorted(exts)) for tid, exts in users.items()}

    def _extensions(self, tenant_id: int) -> str:
        return "\n".join(sorted(e for (e,) in self.store.fetch_all(USERS_SQL, (tenant_id,))))

    # -- one tick --------------------------------------------------------------------------------
    def check_once(self) -> list[str]:
        """Flush what changed since the last tick (and what is due again); the commands sent."""
        sent = self._send_due()
        if self._versions is None:
            self._load()
            return sent
        sent += self._flush_failed()
        versions = [tuple(row) for row in self.store.fetch_all(VERSIONS_SQL)]
        if versions == self._versions:
            return sent
        now = {tid: (domain, version) for tid, domain, version in self.store.fetch_all(TENANTS_SQL)}
        users: dict[tuple[str, str], None] = {}
        new_users: dict[int, str] = {}
        for tenant_id in self._tenants.keys() | now.keys():
            before, after = self._tenants.get(tenant_id), now.get(tenant_id)
            if before == after:
                continue
            old = self._users.get(tenant_id, "")
            new = self._extensions(tenant_id) if after is not None else ""
            new_users[tenant_id] = new
            for domain, extensions in ((before, old), (after, new)):
                if domain is not None and extensions:
                    for extension in extensions.split("\n"):
                        users[(extension, domain[0])] = None
        commands = (
            [FLUSH_ALL]
            if len(users) > FLUSH_ALL_ABOVE
            else [flush_user_command(ext, domain) for ext, domain in users]
        )
        # If the switch is unreachable this raises and the state stays old: retried next tick.
        self._send(commands)
        self._versions, self._tenants = versions, now
        for tenant_id, extensions in new_users.items():
            if tenant_id in now and extensions:
                self._users[tenant_id] = extensions
            else:
                self._users.pop(tenant_id, None)
        if commands:
            self._again.append((self.clock() + self.reflush_seconds, commands))
            log.info("configuration changed: %d directory cache flush command(s) sent", len(commands))
        return sent + commands

    def _flush_failed(self) -> list[str]:
        """The users that failed a digest authentication since the last tick (see the docstring)."""
        rows = self.store.fetch_all(FAILURES_SQL, (self._last_failure,))
        if not rows:
            return []
        # The names come from the failed request (attacker's text; a scanner tries thousands): only
        # an existing user of ours is flushed (nothing else can be in the switch's cache), and only
        # names the directory itself accepts reach a command.
        tenant_of = {domain: tenant_id for tenant_id, (domain, _) in self._tenants.items()}
        users: dict[tuple[str, str], None] = {}
        for _, domain, username in rows:
            tenant_id = tenant_of.get(domain or "")
            if (
                tenant_id is not None
                and EXTENSION_PATTERN.match(username or "")
                and plausible_domain(domain)
                and f"\n{username}\n" in f"\n{self._users.get(tenant_id, '')}\n"
            ):
                users[(username, domain)] = None
        commands = [flush_user_command(username, domain) for username, domain in users]
        self._send(commands)
        self._last_failure = rows[-1][0]
        return commands

    def _send(self, commands: list[str]) -> None:
        for command in commands:
            self.send_api(command)

    def _send_due(self) -> list[str]:
        now = self.clock()
        sent: list[str] = []
        while self._again and self._again[0][0] <= now:
            _, commands = self._again[0]
            self._send(commands)
            self._again.pop(0)
            sent += commands
        return sent

    def evict_banned(self, subjects: list[tuple[str, str, str]]) -> list[str]:
        """Evict what new bans refuse (see the docstring) and wait for the switch; the commands sent.

        `subjects` are (ip, domain, username), domain = username = "" for a whole IP. Never raises:
        the ban stands either way, and the failure loop flushes the user on its next tick.
        """
        commands: dict[str, None] = {}
        for _ip, domain, username in subjects:
            if not domain and not username:
                commands = {FLUSH_ALL_NOW: None}
                break
            # Names from the failed request (the attacker's text): only what the directory accepts.
            if EXTENSION_PATTERN.match(username) and plausible_domain(domain):
                commands[f"api xml_flush_cache id {username} {domain}"] = None
        for command in commands:
            try:
                self.send_api(command)
            except Exception as exc:  # noqa: BLE001 - see above
                log.warning("directory cache not flushed for a new ban (%s): %s", command, exc)
        return list(commands)

    def on_connect(self, _connection: object = None) -> None:
        """After every (re)connection: what changed while away was not flushed; flush everything."""
        self.send_api(FLUSH_ALL)
        self._again.clear()

    def flush_all_on_stop(self) -> bool:
        """On a graceful stop: evict every cached user so the switch fails closed now; whether done."""
        try:
            self.send_api(FLUSH_ALL_NOW)
        except Exception as exc:  # noqa: BLE001 - stopping goes on; the cache time bounds the rest
            log.warning("directory cache not flushed on stop (%s); cached users expire on their own", exc)
            return False
        log.info("directory cache flushed on stop")
        return True

    def start(self) -> None:
        try:
            self._load()  # the baseline now: a change from here on is flushed
        except Exception as exc:  # noqa: BLE001 - the loop loads it once the database answers
            log.warning("directory cache flusher: database not readable yet (%s)", exc)
        self._job.start()

    def stop(self) -> None:
        self._job.stop()
