"""Work the service repeats every few seconds in a greenlet of its own (cache flushes, park ring-back,
spend checks, purges): one loop, written once.

A failing round (the database or the switch away for a moment) is logged and the next round runs
anyway: a periodic job ends only when it is stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

log = logging.getLogger(__name__)


class PeriodicJob:
    """`work()` now and then every `interval` seconds, in a greenlet, until `stop()`.

    `quiet`: failures are expected while a peer is away (a lost ESL socket, a database restart) and
    are logged at debug level without a traceback; otherwise each is logged with its traceback.
    """

    def __init__(self, name: str, interval: float, work: Callable[[], object], *, quiet: bool = False):
        self.name = name
        self.interval = interval
        self.work = work
        self.quiet = quiet
        self._greenlet: gevent.Greenlet | None = None

    def run_once(self) -> bool:
        """One round; False when it failed (logged)."""
        try:
            self.work()
        except Exception as exc:  # noqa: BLE001 - one failed round must not end the job
            if self.quiet:
                log.debug("%s pending: %s", self.name, exc)
            else:
                log.exception("%s failed; trying again in %s s", self.name, self.interval)
            return False
        return True

    def _loop(self) -> None:
        while True:
            self.run_once()
            gevent.sleep(self.interval)

    @property
    def running(self) -> bool:
        return self._greenlet is not None and not self._greenlet.dead

    def start(self) -> None:
        if not self.running:
            self._greenlet = gevent.spawn(self._loop)

    def stop(self, block: bool = True) -> None:
        """End the loop (a round under way is interrupted); `block`: wait until it has ended."""
        if self._greenlet is not None:
            self._greenlet.kill(block=block)
            self._greenlet = None
