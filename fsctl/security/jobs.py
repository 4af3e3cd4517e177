"""The periodic work of issue 9 in the service's parent process: spend checks and the purge of old counters."""

from __future__ import annotations

import logging
import time

import gevent
from sqlalchemy import Engine

from fsctl.db import make_session_factory
from fsctl.security.bans import purge
from fsctl.security.settings import SecuritySettings
from fsctl.security.spend import SpendWatcher

log = logging.getLogger(__name__)


class SecurityJobs:
    """Spend check every `spend_interval` s (alerts within 60 s of a call record), purge every hour."""

    def __init__(
        self,
        engine: Engine,
        settings: SecuritySettings,
        spend_interval: float = 15.0,
        purge_interval: float = 3600.0,
    ):
        self.session_factory = make_session_factory(engine)
        self.settings = settings
        self.spend = SpendWatcher(self.session_factory, settings)
        self.spend_interval = spend_interval
        self.purge_interval = purge_interval
        self._greenlet: gevent.Greenlet | None = None

    def run_once(self, now: float, last_purge: float) -> float:
        """One round: the spend check, and the purge when it is due; returns when the purge last ran."""
        try:
            self.spend.tick(now)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the jobs
            log.exception("spend check failed; trying again in %s s", self.spend_interval)
        if now - last_purge >= self.purge_interval:
            try:
                with self.session_factory() as session:
                    failures, bans = purge(session, self.settings, now)
                if failures or bans:
                    log.info("purged %d old auth failure(s) and %d expired ban(s)", failures, bans)
                return now
            except Exception:  # noqa: BLE001
                log.exception("purge of old auth failures failed")
        return last_purge

    def _loop(self) -> None:
        last_purge = 0.0
        while True:
            last_purge = self.run_once(time.time(), last_purge)
            gevent.sleep(self.spend_interval)

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
