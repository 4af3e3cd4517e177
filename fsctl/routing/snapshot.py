"""A tenant's routing configuration as frozen plain data: what the pure planners read.

Built from the database by fsctl.snapshots (the core tables there, each feature's fields by its own
snapshot part); nothing here touches a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Dest:
    """A destination: kind (user, voicemail, ring_group, ivr, schedule, external, announcement, hangup) and its
    target (an extension, a name, a number or an uploaded audio name)."""

    kind: str
    target: str | None = None

    def describe(self) -> str:
        return self.kind if self.target is None else f"{self.kind} {self.target}"


@dataclass(frozen=True, slots=True)
class UserSnap:
    extension: str
    name: str
    direction: str = "both"  # both, inbound_only, outbound_only
    caller_id: str | None = None
    ring_seconds: int = 20
    voicemail_enabled: bool = True
    recording_enabled: bool = False
    schedule: str | None = None
    do_not_disturb: bool = False
    forward_always: Dest | None = None
    forward_busy: Dest | None = None
    forward_no_answer: Dest | None = None
    forward_no_answer_seconds: int = 20
    forward_unregistered: Dest | None = None


class LazyUsers(Mapping[str, UserSnap]):
    """A tenant's users built one by one when routing first asks for them.

    A tenant of hundreds of users is loaded on a cache miss, but one call reads a handful of them;
    building every frozen UserSnap up front was most of the cost of a miss. `build` turns the
    stored row into a UserSnap; it is pure (the rows were read before).
    """

    __slots__ = ("_rows", "_build", "_built")

    def __init__(self, rows: dict[str, tuple], build: Callable[[tuple], UserSnap]):
        self._rows = rows
        self._build = build
        self._built: dict[str, UserSnap] = {}

    def __getitem__(self, extension: str) -> UserSnap:
        user = self._built.get(extension)
        if user is None:
            user = self._build(self._rows[extension])
            self._built[extension] = user
        return user

    def __contains__(self, extension: object) -> bool:
        return extension in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass(frozen=True, slots=True)
class NumberSnap:
    national: str
    e164: str
    kind: str  # geographic, ip, toll_free
    destination: Dest | None = None
    ivr_option: bool = False


@dataclass(frozen=True, slots=True)
class RingGroupSnap:
    name: str
    members: tuple[str, ...]
    strategy: str = "simultaneous"
    ring_seconds: int = 20
    no_answer: Dest | None = None


@dataclass(frozen=True, slots=True)
class Period:
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int  # may exceed 1440: the period crosses midnight


@dataclass(frozen=True, slots=True)
class Closure:
    first_day: dt.date
    last_day: dt.date
    name: str = ""


@dataclass(frozen=True, slots=True)
class Override:
    """A schedule forced open or closed (臨時営業 / 臨時休業) until `until` (aware; None = until cleared)."""

    mode: str  # open, closed
    until: dt.datetime | None = None

    def applies(self, now: dt.datetime) -> bool:
        """Whether it still decides at `now` (aware): an override past its until has ended."""
        return self.until is None or now < self.until


@dataclass(frozen=True, slots=True)
class ScheduleSnap:
    name: str
    periods: tuple[Period, ...] = ()
    closures: tuple[Closure, ...] = ()
    closed_on_holidays: bool = True
    closed_announcement: str | None = None
    open_destination: Dest | None = None
    closed_destination: Dest | None = None
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class IvrSnap:
    name: str
    greeting: str | None = None
    timeout_seconds: int = 5
    max_attempts: int = 3
    options: tuple[tuple[str, Dest], ...] = ()
    timeout_destination: Dest | None = None


@dataclass(frozen=True, slots=True)
class GatewaySnap:
    """A customer gateway (its part of the snapshot is filled by fsctl.gateways.snapshot)."""

    id: int
    name: str
    auth: str  # credentials (registers) or address (static, ACL)
    channels: int  # the plan: 4, 8, 16 or 32 simultaneous calls, in + out
    address: str | None = None
    port: int = 5060
    numbers: tuple[str, ...] = ()  # carried numbers, national form, sorted


@dataclass(frozen=True, slots=True)
class CarriedSnap:
    """A number a customer gateway carries, routed like one of the tenant's numbers."""

    national: str
    e164: str
    gateway: str  # the carrying gateway's name
    destination: Dest | None = None

    @property
    def geographic(self) -> bool:
        """A fixed-line number (emergency services locate the caller by it)."""
        return self.national[1] != "0" and not self.national.startswith(("050", "0120", "0800"))


@dataclass(frozen=True, slots=True)
class RoomSnap:
    """A conference room (filled by fsctl.conference.snapshot): dialled by its number."""

    number: str
    name: str = ""
    pin: str | None = None
    max_members: int = 10


@dataclass(frozen=True, slots=True)
class BlockSnap:
    """One entry of the tenant's blocklist: a national number (or +<international>), or a prefix."""

    pattern: str
    prefix: bool = False
    action: str = "announce"  # announce (short announcement, then the end) or reject (ended at once)

    def matches(self, caller: str) -> bool:
        return caller.startswith(self.pattern) if self.prefix else caller == self.pattern


@dataclass(frozen=True, slots=True)
class QueueSnap:
    """A call queue (filled by fsctl.queues.snapshot): dialled by its number; `agents` are the member
    extensions in order, whether logged in or not (the switch knows who is)."""

    number: str
    name: str = ""
    strategy: str = "longest_idle"
    max_wait_seconds: int = 120
    agent_ring_seconds: int = 15
    announce_position: bool = True
    overflow: Dest | None = None
    agents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TenantSnap:
    """Everything routing needs about one tenant, at one config_version."""

    id: int
    domain: str
    name: str
    config_version: int = 1
    timezone: str = "Asia/Tokyo"
    language: str = "ja"  # what callers hear (prompts, voicemail phrases, spoken dates): ja or en
    status: str = "active"  # trial, active, suspended
    trial_started_on: dt.date = dt.date(2026, 1, 1)
    international_calls: bool = False
    max_external_channels: int = 2
    allowed_prefixes: tuple[str, ...] = ()
    # The switch node the tenant lives on (fsctl.cluster), None = a single switch. A move changes
    # tenants.node_id, which bumps config_version, so a snapshot never holds a stale node.
    node: str | None = None
    users: Mapping[str, UserSnap] = field(default_factory=dict)
    numbers: dict[str, NumberSnap] = field(default_factory=dict)
    ring_groups: dict[str, RingGroupSnap] = field(default_factory=dict)
    schedules: dict[str, ScheduleSnap] = field(default_factory=dict)
    ivr_menus: dict[str, IvrSnap] = field(default_factory=dict)
    park_ranges: tuple[tuple[int, int], ...] = ()
    # Customer gateways (filled by fsctl.gateways.snapshot): by name; the numbers they carry by national form;
    # which way external calls leave (a gateway name, None = the platform's carrier), per user too.
    gateways: dict[str, GatewaySnap] = field(default_factory=dict)
    carried: dict[str, CarriedSnap] = field(default_factory=dict)
    outbound_via: str | None = None
    user_outbound_via: dict[str, str | None] = field(default_factory=dict)
    # Security caps (filled and applied by fsctl.security.limits): new external calls per interval (calls, seconds;
    # 0 calls = no rate cap), concurrent external calls per user (0 = none), suspension after a spend alert.
    external_rate: tuple[int, int] = (2, 1)
    user_external_calls: int = 0
    external_suspended: bool = False
    # The tenant's own music on hold: an uploaded audio name (fsctl.routing.hold; filled by
    # fsctl.media.snapshot), None = the default.
    hold_music: str | None = None
    # Conference rooms by number (fsctl.conference.snapshot) and the shared phonebook: national
    # number -> the name phones show for a carrier call from it (fsctl.phonebook.snapshot).
    rooms: dict[str, RoomSnap] = field(default_factory=dict)
    # Call queues by number (fsctl.queues.snapshot).
    queues: dict[str, QueueSnap] = field(default_factory=dict)
    phonebook: Mapping[str, str] = field(default_factory=dict)
    # Caller screening (filled by fsctl.screening.snapshot, applied by fsctl.routing.screening): which
    # callers without a number each number ("number:<national>") or user ("user:<extension>") refuses
    # (withheld, payphone, unavailable); the tenant's blocklist, longest pattern first.
    anonymous_refusals: dict[str, frozenset[str]] = field(default_factory=dict)
    blocklist: tuple[BlockSnap, ...] = ()
    # The tenant's numbers (national) answered by the fax receiver (filled by fsctl.fax.snapshot).
    fax_numbers: frozenset[str] = frozenset()

    __hash__ = object.__hash__

    def representative_number(self) -> NumberSnap | None:
        """The company number: the first number leading to a ring group, schedule or IVR, else the first."""
        numbers = sorted(self.numbers.values(), key=lambda n: n.national)
        for number in numbers:
            if number.destination is not None and number.destination.kind in (
                "ring_group",
                "schedule",
                "ivr",
            ):
                return number
        return numbers[0] if numbers else None

    def geographic_number(self) -> NumberSnap | None:
        """A geographic number of the tenant (emergency services locate by it), representative first."""
        rep = self.representative_number()
        if rep is not None and rep.kind == "geographic":
            return rep
        return next(
            (n for n in sorted(self.numbers.values(), key=lambda n: n.national) if n.kind == "geographic"),
            None,
        )
