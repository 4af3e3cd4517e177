"""Typed, immutable events: what handlers see instead of raw header dicts.

`make_event(headers, body)` picks the class by Event-Name (and Event-Subclass for CUSTOM events);
anything unknown is a plain `Event`, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fsctl.esl.protocol import Frame, decode_event, event_key

NODE_HEADER = "FreeSWITCH-Switchname"
_SIP_USER = re.compile(r"sip:([^@;>]+)@([^;>:]+)")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Event:
    """Any event: its name (CUSTOM events: the subclass), headers and body."""

    name: str
    headers: Mapping[str, str] = field(repr=False)
    body: str = field(default="", repr=False)

    @property
    def key(self) -> str:
        """What handlers subscribe to: the Event-Name, or the Event-Subclass of a CUSTOM event."""
        return self.name

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    @property
    def node(self) -> str:
        """The FreeSWITCH node that fired it: its switchname, which the switch puts in every event
        (switch_event.c, switch_event_prep_for_delivery); kumo's nodes set it from `kumo_node_name`."""
        return self.headers.get(NODE_HEADER, "")

    @property
    def unique_id(self) -> str:
        return self.headers.get("Unique-ID", "")

    @property
    def sequence(self) -> int:
        return _int(self.headers.get("Event-Sequence"))

    @property
    def timestamp_us(self) -> int:
        """Event-Date-Timestamp: microseconds since the epoch (switch clock)."""
        return _int(self.headers.get("Event-Date-Timestamp"))


@dataclass(frozen=True, slots=True)
class ChannelEvent(Event):
    """CHANNEL_* and CALL_UPDATE events: one leg of a call."""

    @property
    def direction(self) -> str:
        return self.headers.get("Call-Direction", "")

    @property
    def channel_name(self) -> str:
        return self.headers.get("Channel-Name", "")

    @property
    def caller_number(self) -> str:
        return self.headers.get("Caller-Caller-ID-Number", "")

    @property
    def caller_name(self) -> str:
        return self.headers.get("Caller-Caller-ID-Name", "")

    @property
    def callee_number(self) -> str:
        return self.headers.get("Caller-Callee-ID-Number", "")

    @property
    def destination(self) -> str:
        return self.headers.get("Caller-Destination-Number", "")

    @property
    def context(self) -> str:
        return self.headers.get("Caller-Context", "")

    @property
    def domain(self) -> str:
        h = self.headers
        return h.get("variable_domain_name") or h.get("variable_dialed_domain") or ""

    @property
    def user(self) -> str:
        return self.headers.get("variable_user_name", "")

    @property
    def dialed_user(self) -> str:
        return self.headers.get("variable_dialed_user", "")

    @property
    def other_leg(self) -> str:
        h = self.headers
        return h.get("Other-Leg-Unique-ID") or h.get("Bridge-B-Unique-ID") or ""

    @property
    def hangup_cause(self) -> str:
        return self.headers.get("Hangup-Cause", "")

    @property
    def application(self) -> str:
        return self.headers.get("Application", "")

    @property
    def application_data(self) -> str:
        return self.headers.get("Application-Data", "")

    @property
    def application_uuid(self) -> str:
        return self.headers.get("Application-UUID", "")

    @property
    def tenant_id(self) -> int | None:
        value = self.headers.get("variable_kumo_tenant_id")
        return _int(value) if value else None


@dataclass(frozen=True, slots=True)
class RegistrationEvent(Event):
    """sofia::register, sofia::unregister, sofia::expire: a device came online or went away."""

    @property
    def action(self) -> str:
        return self.name.removeprefix("sofia::")

    @property
    def user(self) -> str:
        h = self.headers
        return h.get("username") or h.get("from-user") or h.get("user") or ""

    @property
    def realm(self) -> str:
        h = self.headers
        return (h.get("domain_name") or h.get("realm") or h.get("from-host") or h.get("host") or "").lower()

    @property
    def contact(self) -> str:
        return self.headers.get("contact", "")

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id", "")

    @property
    def network_address(self) -> str:
        h = self.headers
        ip, port = h.get("network-ip", ""), h.get("network-port", "")
        return f"{ip}:{port}" if ip and port else ip

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    @property
    def expires(self) -> int:
        return _int(self.headers.get("expires"))

    @property
    def status(self) -> str:
        return self.headers.get("status", "")


@dataclass(frozen=True, slots=True)
class ValetEvent(Event):
    """valet_parking::info: a call parked (hold), retrieved (bridge) or gone (exit)."""

    @property
    def action(self) -> str:
        return self.headers.get("Action", "")

    @property
    def lot(self) -> str:
        return self.headers.get("Valet-Lot-Name", "")

    @property
    def slot(self) -> str:
        return self.headers.get("Valet-Extension", "")

    @property
    def bridge_to(self) -> str:
        return self.headers.get("Bridge-To-UUID", "")

    @property
    def caller_number(self) -> str:
        return self.headers.get("Caller-Caller-ID-Number", "")

    @property
    def caller_name(self) -> str:
        return self.headers.get("Caller-Caller-ID-Name", "")

    @property
    def parked_by(self) -> str:
        """Who parked the call: set by our dialplan, else the phone that sent the REFER."""
        h = self.headers
        if h.get("variable_kumo_parked_by"):
            return h["variable_kumo_parked_by"]
        match = _SIP_USER.search(h.get("variable_sip_h_Referred-By", ""))
        return match.group(1) if match else ""


@dataclass(frozen=True, slots=True)
class BackgroundJob(Event):
    """BACKGROUND_JOB: the result of a bgapi command, in the body."""

    @property
    def job_uuid(self) -> str:
        return self.headers.get("Job-UUID", "")

    @property
    def command(self) -> str:
        return self.headers.get("Job-Command", "")


@dataclass(frozen=True, slots=True)
class CustomEvent(Event):
    """Any other CUSTOM event (key = its subclass)."""


_REGISTRATION = frozenset({"sofia::register", "sofia::unregister", "sofia::expire"})


def make_event(headers: Mapping[str, str], body: str = "") -> Event:
    name = headers.get("Event-Name", "")
    if name == "CUSTOM":
        subclass = headers.get("Event-Subclass", "")
        if subclass in _REGISTRATION:
            return RegistrationEvent(subclass, headers, body)
        if subclass == "valet_parking::info":
            return ValetEvent(subclass, headers, body)
        return CustomEvent(subclass, headers, body)
    if name.startswith("CHANNEL_") or name == "CALL_UPDATE":
        return ChannelEvent(name, headers, body)
    if name == "BACKGROUND_JOB":
        return BackgroundJob(name, headers, body)
    return Event(name, headers, body)


def event_from_frame(frame: Frame, wants: Callable[[str], bool] | None = None) -> Event | None:
    """The typed event of an event frame; None for other frames and, when `wants` is given, for
    events no handler asked for, which are dropped before their (large) header block is decoded."""
    if wants is not None:
        key = event_key(frame)
        if key is not None and not wants(key):
            return None
    decoded = decode_event(frame)
    return None if decoded is None else make_event(*decoded)


@dataclass(frozen=True, slots=True)
class Snapshot(Event):
    """Not from the switch: the output of a resync command (`show channels as json`, `valet_info`,
    `show registrations as json`), queued among the events at the point its reply arrived, so
    handlers replace their state in stream order."""

    @property
    def kind(self) -> str:
        return self.headers.get("kind", "")


SNAPSHOT = "kumo::snapshot"


def snapshot(kind: str, output: str, node: str = "") -> Snapshot:
    """The answer of one node's resync command (`node`: the switchname of the connection it came on)."""
    return Snapshot(SNAPSHOT, {"kind": kind, NODE_HEADER: node}, output)
