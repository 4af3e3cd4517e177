"""Evict the switch's cached directory users when any tenant's configuration changes.

Only needed when users are served `cacheable` (FSCTL_DIRECTORY_CACHE_MS > 0): the switch then keeps
them and skips our lookup. `xml_flush_cache` without arguments clears the whole user cache
(switch_xml_clear_user_cache in src/switch_xml.c); the next lookups refill it from kumo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)

# Every committed change bumps one tenant's config_version, so the sum moves on every change, and
# the count moves when a tenant is added or removed: one cheap query, no per-tenant memory.
FINGERPRINT_SQL = "SELECT count(*), coalesce(sum(config_version), 0) FROM tenants"


class DirectoryCacheFlusher:
    def __init__(self, store: LookupStore, send_api: Callable[[str], object], interval: float = 1.0):
        self.store = store
        self.send_api = send_api
        self.interval = interval
        self._last: tuple | None = None
        self._greenlet: gevent.Greenlet | None = None

    def check_once(self) -> bool:
        """Flush if the configuration changed since the last check; True when a flush was sent."""
        fingerprint = tuple(self.store.fetch_one(FINGERPRINT_SQL))
        if self._last is None:
            self._last = fingerprint
            return False
        if fingerprint == self._last:
            return False
        # If the switch is unreachable this raises and the fingerprint stays old: retried next tick.
        self.send_api("bgapi xml_flush_cache")
        self._last = fingerprint
        log.info("configuration changed: asked the switch to flush its cached directory users")
        return True

    def _run(self) -> None:
        while True:
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - a lost database or socket must not end the loop
                log.debug("directory cache flush pending: %s", exc)
            gevent.sleep(self.interval)

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
