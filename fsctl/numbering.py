"""Classify a dialled number with the Japanese numbering plan in dialplans/ (read once, validated)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fsctl.config import PROJECT_ROOT

DIALPLANS_DIR = PROJECT_ROOT / "dialplans"
KINDS = ("emergency", "fixed", "mobile", "ip", "toll_free", "international", "service")
# What FreeSWITCH may hand us as a destination that we even try to classify.
_DIALLABLE = re.compile(r"^[0-9*#+]{1,32}$")
_DIGITS = re.compile(r"^[0-9]{1,32}$")
_SCHEDULE_NUMBER = re.compile(r"^[1-9][0-9]?$")


class _Regex(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            re.compile(text)
        except re.error as exc:
            raise ValidationError(f"not a regular expression: {exc}") from exc
        return text


class _RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS[1:]))
    pattern = _Regex(required=True)
    blocked = fields.Boolean(load_default=False)
    prefix = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{1,6}$"))

    @validates_schema
    def _blocked_has_prefix(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("blocked") and not data.get("prefix"):
            raise ValidationError("a blocked rule names the prefix an operator may allow", "prefix")


_SHORT = validate.Regexp(r"^[0-9]{3,4}$")
_CODE = validate.Regexp(r"^[*#0-9]{1,4}$")


class _NumberingSchema(Schema):
    class Meta:
        unknown = RAISE

    emergency = fields.List(fields.String(validate=_SHORT), required=True, validate=validate.Length(1))
    withhold_prefix = fields.String(required=True, validate=_SHORT)
    present_prefix = fields.String(required=True, validate=_SHORT)
    emergency_caller_id = fields.String(required=True, validate=validate.Regexp(r"^0[1-9][0-9]{8}$"))
    rules = fields.List(fields.Nested(_RuleSchema), required=True, validate=validate.Length(1))


class _FeaturesSchema(Schema):
    class Meta:
        unknown = RAISE

    pickup_group = fields.String(required=True, validate=_CODE)
    pickup_directed_prefix = fields.String(required=True, validate=_CODE)
    voicemail_access = fields.String(required=True, validate=_CODE)
    voicemail_access_other = fields.String(required=True, validate=_CODE)
    # The day/night override of a schedule: <code>[n], n = the schedule's number (fsctl.routing.override).
    schedule_closed = fields.String(required=True, validate=_CODE)
    schedule_open = fields.String(required=True, validate=_CODE)
    schedule_clear = fields.String(required=True, validate=_CODE)
    dnd_on = fields.String(required=True, validate=_CODE)
    dnd_off = fields.String(required=True, validate=_CODE)
    # Call queues: the caller's extension logs in to / out of every queue it is an agent of.
    queue_login = fields.String(required=True, validate=_CODE)
    queue_logout = fields.String(required=True, validate=_CODE)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    regex: re.Pattern[str]
    blocked: bool
    prefix: str | None


@dataclass(frozen=True)
class NumberingPlan:
    """dialplans/numbering.yaml + features.yaml, validated and compiled."""

    emergency: tuple[str, ...]
    withhold_prefix: str
    present_prefix: str
    emergency_caller_id: str
    rules: tuple[Rule, ...]
    features: dict[str, str]


class NumberingError(ValueError):
    """A numbering data file that does not validate; the message lists `path: problem` lines."""


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            path = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            lines.extend(_flatten(value, path))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" for m in messages]
    return [f"{prefix}: {messages}"]


def _read(path: Path, schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise NumberingError("\n".join(f"{path.name}: {line}" for line in _flatten(exc.messages))) from exc


def load_plan(directory: Path = DIALPLANS_DIR) -> NumberingPlan:
    """Read and validate the numbering plan and feature codes from a dialplans/ directory."""
    data = _read(directory / "numbering.yaml", _NumberingSchema())
    features = _read(directory / "features.yaml", _FeaturesSchema())
    rules = tuple(
        Rule(r["name"], r["kind"], re.compile(f"^(?:{r['pattern']})$"), r["blocked"], r["prefix"])
        for r in data["rules"]
    )
    return NumberingPlan(
        emergency=tuple(data["emergency"]),
        withhold_prefix=data["withhold_prefix"],
        present_prefix=data["present_prefix"],
        emergency_caller_id=data["emergency_caller_id"],
        rules=rules,
        features=features,
    )


@functools.cache
def default_plan() -> NumberingPlan:
    """The platform's plan, read once per process."""
    return load_plan()


class _TenantLike(Protocol):
    users: Any
    park_ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Classified:
    """What a dialled string is. `number` is national (or `+CC...` for international)."""

    kind: str  # extension, conference, queue, park_slot, feature, emergency, on_net, fixed, mobile, ip, toll_free,
    #            international, service, invalid
    dialled: str
    number: str
    rule: str
    e164: str | None = None
    blocked_prefix: str | None = None  # blocked by default; the operator may allow this prefix
    privacy: str | None = None  # "withhold" (184) or "present" (186)
    feature: str | None = None
    feature_arg: str | None = None


def _feature(dialled: str, plan: NumberingPlan) -> Classified | None:
    f = plan.features
    for name in ("pickup_group", "voicemail_access", "dnd_on", "dnd_off", "queue_login", "queue_logout"):
        if dialled == f[name]:
            return Classified("feature", dialled, dialled, name, feature=name)
    for name in ("pickup_directed_prefix", "voicemail_access_other"):
        prefix = f[name]
        rest = dialled[len(prefix) :]
        if dialled.startswith(prefix) and _DIGITS.match(rest):
            feature = name.removesuffix("_prefix")
            return Classified("feature", dialled, dialled, feature, feature=feature, feature_arg=rest)
    for name in ("schedule_closed", "schedule_open", "schedule_clear"):
        # The code alone means schedule 1; a schedule's number (1 or 2 digits) may follow.
        rest = dialled[len(f[name]) :]
        if dialled.startswith(f[name]) and (rest == "" or _SCHEDULE_NUMBER.match(rest)):
            return Classified("feature", dialled, dialled, name, feature=name, feature_arg=rest or None)
    if dialled.startswith(("*", "#")):
        return Classified("invalid", dialled, dialled, "unknown_feature_code")
    return None


def classify(
    dialled: str,
    tenant: _TenantLike,
    plan: NumberingPlan | None = None,
    on_net: Callable[[str], bool] | None = None,
) -> Classified:
    """Classify what a user of `tenant` dialled; `on_net(national)` says whether another tenant owns it."""
    plan = plan or default_plan()
    if not isinstance(dialled, str) or not _DIALLABLE.match(dialled):
        return Classified("invalid", "", "", "not_diallable")
    if dialled in plan.emergency:
        return Classified("emergency", dialled, dialled, "emergency")
    feature = _feature(dialled, plan)
    if feature is not None:
        return feature
    if dialled in tenant.users:
        return Classified("extension", dialled, dialled, "extension")
    if dialled in (getattr(tenant, "rooms", None) or {}):
        return Classified("conference", dialled, dialled, "conference_room")
    if dialled in (getattr(tenant, "queues", None) or {}):
        return Classified("queue", dialled, dialled, "call_queue")
    if _DIGITS.match(dialled) and not dialled.startswith("0"):
        slot = int(dialled)
        if any(first <= slot <= last for first, last in tenant.park_ranges):
            return Classified("park_slot", dialled, dialled, "park_slot")
    privacy = None
    number = dialled
    for prefix, mode in ((plan.withhold_prefix, "withhold"), (plan.present_prefix, "present")):
        if number.startswith(prefix) and len(number) > len(prefix) + 2:
            number, privacy = number[len(prefix) :], mode
            break
    if number in plan.emergency:
        return Classified("emergency", dialled, number, "emergency", privacy=privacy)
    if number.startswith("+81"):
        number = "0" + number[3:]
    elif number.startswith("+"):
        number = "010" + number[1:]
    if not _DIGITS.match(number):
        return Classified("invalid", dialled, number, "not_a_number", privacy=privacy)
    for rule in plan.rules:
        if not rule.regex.match(number):
            continue
        if rule.kind == "international":
            return Classified(
                "international", dialled, "+" + number[3:], rule.name, e164="+" + number[3:], privacy=privacy
            )
        if rule.kind == "service":
            # Short codes and 00XY carrier prefixes go to the carrier as dialled, not as E.164.
            e164 = None if len(number) <= 4 or number.startswith("00") else "+81" + number[1:]
            return Classified(
                "service",
                dialled,
                number,
                rule.name,
                e164=e164,
                blocked_prefix=rule.prefix if rule.blocked else None,
                privacy=privacy,
            )
        e164 = "+81" + number[1:]
        if on_net is not None and on_net(number):
            return Classified("on_net", dialled, number, rule.name, e164=e164, privacy=privacy)
        return Classified(rule.kind, dialled, number, rule.name, e164=e164, privacy=privacy)
    return Classified("invalid", dialled, number, "unknown_number", privacy=privacy)
