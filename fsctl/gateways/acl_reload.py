"""Keep the switch's "kumo-gateways" network list equal to the static gateways saved in kumo.

The switch reads that list from kumo only when it loads its ACLs (start-up and `reloadacl`:
switch_core.c switch_load_network_lists asks the directory for gateways.kumo.invalid), so a static
gateway saved in the panel, the API or `fsctl apply` would otherwise be admitted, or a removed one
refused, only after an operator's `reloadacl`. This job, in the service's parent process next to the
inbound event socket, compares the list kumo would serve now with the one it last had the switch
load, and sends `bgapi reloadacl` when they differ:

- only then: `reloadacl` reloads every list of the switch and logs, so a change that leaves the
  addresses alone (a password, a user, a gateway's channels) sends nothing; the list is read only
  when some tenant's config_version moved (every committed change bumps it, fsctl.db).
- once per check however many tenants changed since the last one.
- while the event socket is down the send fails and the last loaded list stays as it was, so the
  next check (and the reconnection itself, on_connect) sends it. (A switch restarted meanwhile has
  already loaded the new list at its own start-up; that reload is then one more than needed.)
- at the first connection of the service: what the switch loaded is unknown (it may have loaded
  while kumo was down, and then admits no static gateway), so one reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gevent.lock import BoundedSemaphore

from fsctl.gateways.directory import static_networks
from fsctl.periodic import PeriodicJob
from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)

VERSIONS_SQL = "SELECT id, config_version FROM tenants ORDER BY id"
# In the background: the reload makes the switch ask kumo's lookup workers for the list, which can take
# longer than the event socket's command timeout (a timed-out command closes the connection).
RELOAD_ACL = "bgapi reloadacl"

Networks = list[tuple[int, str]]


def describe(before: Networks | None, after: Networks) -> str:
    """The change from one network list to another, for the log: which gateways came, went or moved."""
    if before is None:
        return f"not loaded by this service yet, {len(after)} static gateway(s)"
    old, new = dict(before), dict(after)
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    moved = sorted(g for g in old.keys() & new.keys() if old[g] != new[g])
    parts = [
        f"{what} gw{','.join(map(str, ids))}"
        for what, ids in (("added", added), ("removed", removed), ("re-addressed", moved))
        if ids
    ]
    return "; ".join(parts)


class GatewayAclReloader:
    def __init__(self, store: LookupStore, send_api: Callable[[str], object], interval: float = 0.5):
        self.store = store
        self.send_api = send_api
        self._versions: list[tuple] | None = None
        # The list the switch was last made to load; None until this service has loaded it once.
        self._loaded: Networks | None = None
        self._lock = BoundedSemaphore()
        self._job = PeriodicJob("gateway ACL reload", interval, self.check_once, quiet=True)

    def check_once(self) -> bool:
        """Reload the switch's ACLs if the static gateways' addresses changed; whether it did."""
        versions = [tuple(row) for row in self.store.fetch_all(VERSIONS_SQL)]
        if versions == self._versions:
            return False
        with self._lock:
            # If the switch is unreachable this raises and the versions stay old: tried again next check.
            reloaded = self._reload_if_changed("configuration changed")
            self._versions = versions
        return reloaded

    def on_connect(self, _connection: object = None) -> None:
        """After every (re)connection: reload if the list changed while the switch was away."""
        with self._lock:
            self._reload_if_changed("event socket connected")

    def _reload_if_changed(self, why: str) -> bool:
        now = static_networks(self.store)
        if now == self._loaded:
            return False
        reply = self.send_api(RELOAD_ACL)
        if getattr(reply, "ok", True) is False:
            raise RuntimeError(f"reloadacl refused: {getattr(reply, 'data', '').strip()[:120]}")
        log.info("%s: reloadacl sent for the kumo-gateways list (%s)", why, describe(self._loaded, now))
        self._loaded = now
        return True

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()
