"""Prometheus metrics shared by the service's processes, without locks.

The parent maps one anonymous shared memory block before it forks the HTTP workers; each process
writes only its own slot of int64 counters, and whoever serves /metrics sums the slots. One writer
per slot means no lock and no lost increment.
"""

from __future__ import annotations

import mmap
import time

SECTIONS = ("directory", "dialplan", "configuration", "languages", "other")
# timeout: the database did not answer within the lookup deadline (answered "not found").
OUTCOMES = ("found", "not_found", "error", "unauthorized", "timeout")
# Upper bounds in seconds of the lookup latency histogram.
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

_LOOKUPS = 0
_BUCKET0 = _LOOKUPS + len(SECTIONS) * len(OUTCOMES)
_COUNT = _BUCKET0 + len(BUCKETS)
_SUM_US = _COUNT + 1
_ESL_RECONNECTS = _SUM_US + 1
_ESL_EVENTS = _ESL_RECONNECTS + 1
_ESL_CONNECTED = _ESL_EVENTS + 1
_SLOT_SIZE = _ESL_CONNECTED + 1


class Metrics:
    def __init__(self, slots: int = 1):
        self.slots = slots
        self._memory = mmap.mmap(-1, 8 * _SLOT_SIZE * slots)
        self._all = memoryview(self._memory).cast("q")
        self.slot = 0

    def use_slot(self, slot: int) -> None:
        """Called in each forked worker: from now on this process writes only its own slot."""
        self.slot = slot

    def _index(self, offset: int) -> int:
        return self.slot * _SLOT_SIZE + offset

    def observe_lookup(self, section: str, outcome: str, seconds: float) -> None:
        s = SECTIONS.index(section) if section in SECTIONS else len(SECTIONS) - 1
        self._all[self._index(_LOOKUPS + s * len(OUTCOMES) + OUTCOMES.index(outcome))] += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self._all[self._index(_BUCKET0 + i)] += 1
                break
        self._all[self._index(_COUNT)] += 1
        self._all[self._index(_SUM_US)] += int(seconds * 1_000_000)

    def esl_reconnected(self) -> None:
        self._all[self._index(_ESL_RECONNECTS)] += 1

    def esl_event(self) -> None:
        self._all[self._index(_ESL_EVENTS)] += 1

    def set_esl_connected(self, connected: bool) -> None:
        self._all[self._index(_ESL_CONNECTED)] = 1 if connected else 0

    def _sum(self, offset: int) -> int:
        return sum(self._all[slot * _SLOT_SIZE + offset] for slot in range(self.slots))

    @property
    def esl_connected(self) -> bool:
        return self._sum(_ESL_CONNECTED) > 0

    def lookups(self, section: str, outcome: str) -> int:
        return self._sum(_LOOKUPS + SECTIONS.index(section) * len(OUTCOMES) + OUTCOMES.index(outcome))

    def render(self) -> bytes:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP kumo_xml_lookups_total mod_xml_curl lookups answered, by section and outcome.",
            "# TYPE kumo_xml_lookups_total counter",
        ]
        for section in SECTIONS:
            for outcome in OUTCOMES:
                value = self.lookups(section, outcome)
                lines.append(f'kumo_xml_lookups_total{{section="{section}",outcome="{outcome}"}} {value}')
        lines += [
            "# HELP kumo_xml_lookup_seconds Time to answer one mod_xml_curl lookup.",
            "# TYPE kumo_xml_lookup_seconds histogram",
        ]
        cumulative = 0
        for i, bound in enumerate(BUCKETS):
            cumulative += self._sum(_BUCKET0 + i)
            lines.append(f'kumo_xml_lookup_seconds_bucket{{le="{bound}"}} {cumulative}')
        lines.append(f'kumo_xml_lookup_seconds_bucket{{le="+Inf"}} {self._sum(_COUNT)}')
        lines.append(f"kumo_xml_lookup_seconds_sum {self._sum(_SUM_US) / 1_000_000}")
        lines.append(f"kumo_xml_lookup_seconds_count {self._sum(_COUNT)}")
        lines += [
            "# HELP kumo_esl_reconnects_total Inbound event socket connections made after the first.",
            "# TYPE kumo_esl_reconnects_total counter",
            f"kumo_esl_reconnects_total {self._sum(_ESL_RECONNECTS)}",
            "# HELP kumo_esl_events_total Events received on the inbound event socket.",
            "# TYPE kumo_esl_events_total counter",
            f"kumo_esl_events_total {self._sum(_ESL_EVENTS)}",
            "# HELP kumo_esl_connected 1 while the inbound event socket is connected.",
            "# TYPE kumo_esl_connected gauge",
            f"kumo_esl_connected {1 if self.esl_connected else 0}",
        ]
        return ("\n".join(lines) + "\n").encode()


def monotonic() -> float:
    return time.perf_counter()
