"""The security work of the service's parent process: spend checks and the purge of old counters."""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine

from fsctl.db import make_session_factory
from fsctl.periodic import PeriodicJob
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
        self.jobs = (
            PeriodicJob("spend check", spend_interval, lambda: self.spend.tick(time.time())),
            PeriodicJob("purge of old auth failures", purge_interval, lambda: self.purge(time.time())),
        )

    def purge(self, now: float) -> tuple[int, int]:
        """Forget old auth failures and expired bans; (failures, bans) removed."""
        with self.session_factory() as session:
            failures, bans = purge(session, self.settings, now)
        if failures or bans:
            log.info("purged %d old auth failure(s) and %d expired ban(s)", failures, bans)
        return failures, bans

    def start(self) -> None:
        for job in self.jobs:
            job.start()

    def stop(self) -> None:
        for job in self.jobs:
            job.stop(block=False)
