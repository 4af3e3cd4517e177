"""Rate-limited logging: a flood of refused lookups must not flood the log.

A record is "the same" as an earlier one when it comes from the same logger with the same message
template (the arguments may differ: each refused lookup names its caller). Each template gets `burst`
records per `interval` seconds; the rest are counted, and the first record let through afterwards says
how many were suppressed. Distinct problems have distinct templates, so they still show at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

BURST = 5
INTERVAL = 60.0


class RepeatFilter(logging.Filter):
    """A handler filter letting `burst` records of one template through per `interval` seconds."""

    def __init__(
        self, burst: int = BURST, interval: float = INTERVAL, clock: Callable[[], float] | None = None
    ):
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.clock = clock or time.monotonic
        # (logger, template) -> [window start, records let through in it, records suppressed]
        self._seen: dict[tuple[str, str], list] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL:
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.interval:
            suppressed = state[2] if state is not None else 0
            self._seen[key] = [now, 1, 0]
            if suppressed:
                # No "%" in the note: the record's own arguments still format its message.
                record.msg = (
                    f"{record.msg} [{suppressed} more like this suppressed in the last {self.interval:.0f} s]"
                )
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def limit_repeats(logger: logging.Logger | None = None) -> None:
    """Install a RepeatFilter on every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(RepeatFilter())
