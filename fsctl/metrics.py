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
_SLOT_SIZE = _SUM_US + 1

# After the slots, one block per event socket (node) kumo connects to, written only by the parent
# (which holds the connections): connected, events, reconnects, then the node's name (its switchname,
# at most 63 bytes, NUL-padded), which the HTTP workers read for /healthz.
_LINK_CONNECTED = 0
_LINK_EVENTS = 1
_LINK_RECONNECTS = 2
_LINK_NAME = 3
_NAME_BYTES = 64
_LINK_SIZE = _LINK_NAME + _NAME_BYTES // 8


class Metrics:
    def __init__(self, slots: int = 1, esl_links: tuple[str, ...] = ("",)):
        """`esl_links`: the event sockets' addresses (`host:port`), one block each."""
        self.slots = slots
        self.esl_links = tuple(esl_links)
        self._links_at = _SLOT_SIZE * slots
        self._memory = mmap.mmap(-1, 8 * (self._links_at + _LINK_SIZE * len(self.esl_links)))
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

    def _link(self, link: int, offset: int) -> int:
        return self._links_at + link * _LINK_SIZE + offset

    def esl_reconnected(self, link: int = 0) -> None:
        self._all[self._link(link, _LINK_RECONNECTS)] += 1

    def esl_event(self, link: int = 0) -> None:
        self._all[self._link(link, _LINK_EVENTS)] += 1

    def set_esl_connected(self, connected: bool, link: int = 0) -> None:
        self._all[self._link(link, _LINK_CONNECTED)] = 1 if connected else 0

    def set_esl_node(self, name: str, link: int = 0) -> None:
        """The switchname the node behind this event socket gave (fsctl.esl.inbound)."""
        start = 8 * self._link(link, _LINK_NAME)
        self._memory[start : start + _NAME_BYTES] = name.encode()[: _NAME_BYTES - 1].ljust(_NAME_BYTES, b"\0")

    def esl_node(self, link: int = 0) -> str:
        start = 8 * self._link(link, _LINK_NAME)
        return self._memory[start : start + _NAME_BYTES].split(b"\0", 1)[0].decode(errors="replace")

    def _sum(self, offset: int) -> int:
        return sum(self._all[slot * _SLOT_SIZE + offset] for slot in range(self.slots))

    def _links_sum(self, offset: int) -> int:
        return sum(self._all[self._link(link, offset)] for link in range(len(self.esl_links)))

    def esl_link_connected(self, link: int) -> bool:
        return self._all[self._link(link, _LINK_CONNECTED)] > 0

    @property
    def esl_connected(self) -> bool:
        """Every node's event socket is connected (one down is a reason to look)."""
        return all(self.esl_link_connected(link) for link in range(len(self.esl_links)))

    def esl_nodes(self) -> dict[str, dict[str, str]]:
        """Per event socket address: the node's name ("" until it said it) and connected/disconnected."""
        return {
            address: {
                "node": self.esl_node(link),
                "state": "connected" if self.esl_link_connected(link) else "disconnected",
            }
            for link, address in enumerate(self.esl_links)
        }

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
            f"kumo_esl_reconnects_total {self._links_sum(_LINK_RECONNECTS)}",
            "# HELP kumo_esl_events_total Events received on the inbound event sockets.",
            "# TYPE kumo_esl_events_total counter",
            f"kumo_esl_events_total {self._links_sum(_LINK_EVENTS)}",
            "# HELP kumo_esl_connected 1 while every node's inbound event socket is connected.",
            "# TYPE kumo_esl_connected gauge",
            f"kumo_esl_connected {1 if self.esl_connected else 0}",
        ]
        if len(self.esl_links) > 1:
            lines += self._render_links()
        return ("\n".join(lines) + "\n").encode()

    def _render_links(self) -> list[str]:
        """Per node (several event sockets): connected, events and reconnects, labelled by address and name."""
        series = (
            (
                "kumo_esl_node_connected",
                "gauge",
                "1 while this node's event socket is connected.",
                _LINK_CONNECTED,
            ),
            ("kumo_esl_node_events_total", "counter", "Events received from this node.", _LINK_EVENTS),
            ("kumo_esl_node_reconnects_total", "counter", "Reconnections to this node.", _LINK_RECONNECTS),
        )
        lines = []
        for name, kind, text, offset in series:
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            for link, address in enumerate(self.esl_links):
                node = self.esl_node(link).replace("\\", "").replace('"', "")
                lines.append(
                    f'{name}{{address="{address}",node="{node}"}} {self._all[self._link(link, offset)]}'
                )
        return lines


def monotonic() -> float:
    return time.perf_counter()
