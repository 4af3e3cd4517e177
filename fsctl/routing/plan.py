"""A routing plan: plain data (dialplan actions + the decisions that led to them)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

CARRIER_GATEWAY = "carrier"
LIMIT_REALM = "kumo_external"
DEFAULT_AFTER_HOURS = "kumo/after_hours.wav"
# Destinations FreeSWITCH hunts again after a failed bridge or an IVR choice (see fsctl.routing.destinations).
CONTINUATION_VAR = "kumo_continuation"
# The context a carrier call's continuation is hunted in: "public_<tenant domain>". The tenant of a
# continuation comes from its context, never from a channel variable a caller could set; tenant
# domains hold no "_" (fsctl.schemas.DOMAIN), so this never names a tenant's own context.
CARRIER_CONTINUATION_PREFIX = "public_"


def continuation_context(context: str, domain: str) -> str:
    """The context a continuation of a call routed in `context` for tenant `domain` is hunted in."""
    return CARRIER_CONTINUATION_PREFIX + domain if context == "public" else context


_SAFE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$")
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f${}\\'\"|^]")


# Actions and decisions are named tuples, not frozen dataclasses: a carrier call's plan makes a dozen
# of each on every lookup, and a tuple is built, hashed and compared in C (a frozen dataclass runs
# object.__setattr__ per field and its generated __hash__/__eq__ in Python).
class Action(NamedTuple):
    """One dialplan action: a FreeSWITCH application and its (already safe) argument string."""

    app: str
    data: str = ""


class Decision(NamedTuple):
    """One step of reasoning: what was decided and why."""

    what: str
    why: str


@dataclass
class Plan:
    """What happens to one call; `fsctl trace` prints it, the renderer turns `actions` into XML."""

    context: str
    caller: str
    dialled: str
    at: str
    tenant: str | None = None
    # What the caller hears (the tenant's prompt language) and the clock dates are said in.
    language: str | None = None
    timezone: str | None = None
    kind: str = "unknown"  # internal, inbound, outbound, on_net, emergency, feature, refused, ...
    refused_by: str | None = None
    actions: list[Action] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def decide(self, what: str, why: str) -> None:
        self.decisions.append(Decision(what, why))

    def add(self, app: str, data: str = "") -> None:
        if app == "answer" and any(action.app == "answer" and not action.data for action in self.actions):
            return  # answered once is enough (announcement then voicemail)
        self.actions.append(Action(app, data))

    def refuse(self, rule: str, cause: str, why: str) -> Plan:
        """End the call with a SIP cause, naming the rule that refused it."""
        self.refused_by = rule
        self.decide(f"refused by {rule}", why)
        self.add("hangup", cause)
        return self

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)  # named tuples stay tuples there; the JSON names their fields
        document["actions"] = [action._asdict() for action in self.actions]
        document["decisions"] = [decision._asdict() for decision in self.decisions]
        return document


def park_lot(domain: str) -> str:
    """The tenant's valet_parking lot. mod_valet_parking takes the part after '@' as the presence
    domain of its slots and matches `park+<slot>@<domain>` subscriptions only to lots naming that
    domain, so `park@<domain>` keeps slot 701 of one tenant apart from slot 701 of another."""
    return f"park@{domain}"


def pickup_group(domain: str) -> str:
    """The tenant's pickup group (`pickup/<group>` legs, the `pickup <group>` application)."""
    return f"group@{domain}"


def last_dial_realm(domain: str) -> str:
    """mod_hash realm where the uuid of the call last dialled to each extension is kept."""
    return f"{domain}-last_dial_ext"


def safe_file(path: str | None) -> str | None:
    """A sound file path that cannot smuggle variables, spaces or `..` into an argument, or None."""
    if path and _SAFE_FILE.match(path) and ".." not in path:
        return path
    return None


def safe_text(text: str, limit: int = 60) -> str:
    """Display text (a caller name) with every character FreeSWITCH would expand or split removed."""
    return _UNSAFE_TEXT.sub("", text)[:limit].strip()
