"""Declarative tenant configuration: `fsctl apply FILE.yaml` and `fsctl export DOMAIN`.

The file is the whole truth about one tenant: what it does not name is removed (users) or released
(numbers). Apply runs in one transaction; any error anywhere refuses the whole file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.billing.subscriptions import sync_subscriptions
from fsctl.gateways import config as gateway_config
from fsctl.numbers import NumberError, parse_inventory_number
from fsctl.routing.validate import validate_routing
from fsctl.schemas import WEEKDAYS, TenantConfigSchema, ValidationError, flatten_errors

Dest = tuple[str, str | None]


class ConfigError(Exception):
    """A tenant file that was refused; `errors` lists every problem by its path in the file."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ApplyResult:
    domain: str
    created: bool
    changed: bool
    config_version: int


def a1_hash(extension: str, domain: str, password: str) -> str:
    """The SIP digest HA1 FreeSWITCH checks against: md5(user:realm:password)."""
    return hashlib.md5(f"{extension}:{domain}:{password}".encode()).hexdigest()  # noqa: S324 - SIP digest needs MD5


def load_config(raw: Any) -> dict[str, Any]:
    """Validate a parsed YAML document: schema first, then cross references. Raises ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(["(file): must be a mapping with domain, name, users, ..."])
    try:
        data = TenantConfigSchema().load(raw)
    except ValidationError as exc:
        raise ConfigError(flatten_errors(exc.messages)) from exc
    errors = reference_errors(data)
    if not errors:
        # Routing checks assume the references resolve.
        errors = validate_routing(data)
    if errors:
        raise ConfigError(errors)
    return data


def _first_seen(items: list[Any], key) -> dict[Any, int]:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        seen.setdefault(key(item), index)
    return seen


def reference_errors(data: dict[str, Any]) -> list[str]:
    """Duplicates and destinations that name nothing, as `path: message` lines."""
    errors: list[str] = []

    def unique(section: str, field: str, key) -> None:
        first = _first_seen(data[section], key)
        for index, item in enumerate(data[section]):
            if first[key(item)] != index:
                errors.append(f"{section}[{index}].{field}: already used by {section}[{first[key(item)]}]")

    unique("users", "extension", lambda u: u["extension"])
    unique("ring_groups", "name", lambda g: g["name"])
    unique("schedules", "name", lambda s: s["name"])
    unique("ivr_menus", "name", lambda m: m["name"])
    unique("numbers", "number", lambda n: n["number"])

    extensions = {u["extension"] for u in data["users"]}
    groups = {g["name"] for g in data["ring_groups"]}
    schedules = {s["name"] for s in data["schedules"]}
    menus = {m["name"] for m in data["ivr_menus"]}
    listed_numbers = {n["number"] for n in data["numbers"]}
    owned = listed_numbers | {u["did"] for u in data["users"] if u["did"]}
    owned |= gateway_config.carried_numbers(data)  # a user may present a number its gateway carries

    did_owner = _first_seen([u["did"] for u in data["users"]], lambda did: did)
    for index, user in enumerate(data["users"]):
        did = user["did"]
        if did and did in listed_numbers:
            errors.append(f"users[{index}].did: {did} is also listed under numbers; give it one destination")
        if did and did_owner[did] != index:
            errors.append(f"users[{index}].did: already the did of users[{did_owner[did]}]")
        if user["caller_id"] and user["caller_id"] not in owned:
            errors.append(
                f"users[{index}].caller_id: {user['caller_id']} is not one of this tenant's numbers"
            )
        if user["schedule"] and user["schedule"] not in schedules:
            errors.append(f"users[{index}].schedule: no schedule named {user['schedule']!r}")

    def check_dest(path: str, dest: Dest | None) -> None:
        if dest is None:
            return
        kind, target = dest
        known = {
            "user": extensions,
            "voicemail": extensions,
            "ring_group": groups,
            "ivr": menus,
            "schedule": schedules,
        }.get(kind)
        if known is not None and target not in known:
            errors.append(f"{path}.{kind}: {target!r} does not exist in this file")

    for index, user in enumerate(data["users"]):
        for kind in ("always", "busy", "no_answer", "unregistered"):
            check_dest(f"users[{index}].forward.{kind}", user["forward"][kind])
    for index, number in enumerate(data["numbers"]):
        check_dest(f"numbers[{index}].destination", number["destination"])
    for index, group in enumerate(data["ring_groups"]):
        if not group["members"]:
            errors.append(f"ring_groups[{index}].members: a ring group needs at least one member")
        for position, member in enumerate(group["members"]):
            if member not in extensions:
                errors.append(f"ring_groups[{index}].members[{position}]: no user with extension {member}")
        for member, count in Counter(group["members"]).items():
            if count > 1:
                errors.append(f"ring_groups[{index}].members: {member} is listed {count} times")
        check_dest(f"ring_groups[{index}].no_answer", group["no_answer"])
    for index, schedule in enumerate(data["schedules"]):
        check_dest(f"schedules[{index}].open_destination", schedule["open_destination"])
        check_dest(f"schedules[{index}].closed_destination", schedule["closed_destination"])
        for kind in ("open_destination", "closed_destination"):
            if schedule[kind] and schedule[kind][0] == "schedule":
                errors.append(f"schedules[{index}].{kind}: a schedule cannot lead to another schedule")
        for position, period in enumerate(schedule["open"]):
            if _minutes(period["to"]) == _minutes(period["from_"]):
                errors.append(
                    f"schedules[{index}].open[{position}]: from and to are equal (use 00:00-24:00 for all day)"
                )
    for index, menu in enumerate(data["ivr_menus"]):
        for digit, dest in menu["options"].items():
            check_dest(f"ivr_menus[{index}].options.{digit}", dest)
        check_dest(f"ivr_menus[{index}].timeout_destination", menu["timeout_destination"])
    if data["park"]:
        first, last = (int(x) for x in data["park"]["slots"].split("-"))
        if last < first:
            errors.append("park.slots: the range ends before it starts")
        elif clash := sorted(e for e in extensions if first <= int(e) <= last):
            errors.append(f"park.slots: overlaps the extensions {', '.join(clash)}")
    known = {"user": extensions, "voicemail": extensions, "ring_group": groups, "ivr": menus, "schedule": schedules}
    errors.extend(gateway_config.gateway_errors(data, known))
    return errors


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Applier:
    def __init__(self, session: Session, data: dict[str, Any], actor: str):
        self.session = session
        self.data = data
        self.actor = actor
        self.errors: list[str] = []
        # Exports never show credentials, so a new password alone is noticed here.
        self.credentials_changed = False

    def run(self) -> ApplyResult:
        session, data = self.session, self.data
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == data["domain"]))
        created = tenant is None
        before = None if created else export_tenant(tenant)
        if tenant is None:
            tenant = models.Tenant(domain=data["domain"], config_version=1)
            session.add(tenant)
        tenant.name = data["name"]
        tenant.timezone = data["timezone"]
        tenant.status = data["status"]
        tenant.trial_started_on = data["trial_started_on"] or tenant.trial_started_on or dt.date.today()
        tenant.international_calls = data["international_calls"]
        tenant.max_external_channels = data["max_external_channels"]
        tenant.allowed_prefixes = list(data["allowed_prefixes"])
        session.flush()

        self._drop_destinations(tenant)
        users = self._apply_users(tenant)
        groups = self._apply_named(tenant, tenant.ring_groups, data["ring_groups"], models.RingGroup)
        schedules = self._apply_named(tenant, tenant.schedules, data["schedules"], models.Schedule)
        menus = self._apply_named(tenant, tenant.ivr_menus, data["ivr_menus"], models.IvrMenu)
        session.flush()
        self.refs = {
            "user": users,
            "voicemail": users,
            "ring_group": groups,
            "schedule": schedules,
            "ivr": menus,
        }
        self.tenant = tenant
        self._fill_users(users)
        self._fill_groups(groups, users)
        self._fill_schedules(schedules)
        self._fill_menus(menus)
        self._apply_numbers(tenant, users)
        self._apply_park(tenant)
        gateway_config.apply_gateways(self, tenant)
        if self.errors:
            raise ConfigError(self.errors)
        session.flush()
        session.expire(tenant)
        after = export_tenant(tenant)
        changed = created or self.credentials_changed or after != before
        # Billing history (issue 7): users, numbers and options held from today on.
        sync_subscriptions(session, tenant)
        if changed:
            session.add(
                models.AuditEntry(
                    actor=self.actor,
                    tenant_id=tenant.id,
                    action="tenant.apply",
                    detail=json.dumps({"created": created}, ensure_ascii=False),
                )
            )
        return ApplyResult(tenant.domain, created, changed, tenant.config_version)

    def _drop_destinations(self, tenant: models.Tenant) -> None:
        # Destinations are rebuilt from the file; unlink everything pointing at them first.
        gateway_config.unlink_destinations(self.session, tenant)
        for user in tenant.users:
            user.forward_always = user.forward_busy = user.forward_no_answer = user.forward_unregistered = (
                None
            )
        for number in tenant.numbers:
            number.destination = None
        for group in tenant.ring_groups:
            group.no_answer = None
            # Members are rebuilt too; clearing them first keeps the ORM and the database's
            # ON DELETE CASCADE (when a user goes) from deleting the same rows twice.
            group.members.clear()
        for schedule in tenant.schedules:
            schedule.open_destination = schedule.closed_destination = None
        for menu in tenant.ivr_menus:
            menu.timeout_destination = None
            menu.options.clear()
        self.session.flush()
        for destination in list(tenant.destinations):
            tenant.destinations.remove(destination)
        self.session.flush()

    def _apply_users(self, tenant: models.Tenant) -> dict[str, models.User]:
        existing = {u.extension: u for u in tenant.users}
        wanted = {u["extension"] for u in self.data["users"]}
        for extension, user in existing.items():
            if extension not in wanted:
                tenant.users.remove(user)
        result: dict[str, models.User] = {}
        for index, spec in enumerate(self.data["users"]):
            user = existing.get(spec["extension"])
            if user is None:
                if "password" not in spec:
                    self.errors.append(f"users[{index}].password: required for a new user")
                    continue
                user = models.User(extension=spec["extension"])
                tenant.users.append(user)
            if "password" in spec:
                hashed = a1_hash(spec["extension"], tenant.domain, spec["password"])
                if user.a1_hash != hashed:
                    user.a1_hash = hashed
                    self.credentials_changed = True
            user.name = spec["name"]
            user.direction = spec["direction"]
            user.caller_id = spec["caller_id"]
            user.ring_seconds = spec["ring_seconds"]
            vm = spec["voicemail"]
            user.voicemail_enabled = vm["enabled"]
            user.voicemail_pin = vm["pin"]
            user.voicemail_email = vm["email"]
            user.voicemail_attach_audio = vm["attach_audio"]
            user.recording_enabled = spec["recording"]
            user.forward_no_answer_seconds = spec["forward"]["no_answer_seconds"]
            result[spec["extension"]] = user
        self.session.flush()
        return result

    def _apply_named(self, tenant, collection: list, specs: list[dict], cls) -> dict[str, Any]:
        existing = {item.name: item for item in collection}
        wanted = {spec["name"] for spec in specs}
        for name, item in existing.items():
            if name not in wanted:
                collection.remove(item)
        result = {}
        for spec in specs:
            item = existing.get(spec["name"])
            if item is None:
                item = cls(name=spec["name"])
                collection.append(item)
            result[spec["name"]] = item
        self.session.flush()
        return result

    def _dest(self, dest: Dest | None) -> models.Destination | None:
        if dest is None:
            return None
        kind, target = dest
        row = models.Destination(kind=models.DestinationKind(kind))
        if kind in ("user", "voicemail"):
            row.user = self.refs[kind][target]
        elif kind == "ring_group":
            row.ring_group = self.refs[kind][target]
        elif kind == "ivr":
            row.ivr_menu = self.refs[kind][target]
        elif kind == "schedule":
            row.schedule = self.refs[kind][target]
        elif kind == "external":
            row.external_number = target
        self.tenant.destinations.append(row)
        return row

    def _fill_users(self, users: dict[str, models.User]) -> None:
        schedules = self.refs["schedule"]
        for spec in self.data["users"]:
            user = users.get(spec["extension"])
            if user is None:
                continue
            user.schedule = schedules[spec["schedule"]] if spec["schedule"] else None
            forward = spec["forward"]
            user.forward_always = self._dest(forward["always"])
            user.forward_busy = self._dest(forward["busy"])
            user.forward_no_answer = self._dest(forward["no_answer"])
            user.forward_unregistered = self._dest(forward["unregistered"])

    def _fill_groups(self, groups: dict[str, models.RingGroup], users: dict[str, models.User]) -> None:
        for spec in self.data["ring_groups"]:
            group = groups[spec["name"]]
            group.strategy = spec["strategy"]
            group.ring_seconds = spec["ring_seconds"]
            for position, extension in enumerate(spec["members"]):
                if extension in users:
                    group.members.append(models.RingGroupMember(user=users[extension], position=position))
            group.no_answer = self._dest(spec["no_answer"])

    def _fill_schedules(self, schedules: dict[str, models.Schedule]) -> None:
        for spec in self.data["schedules"]:
            schedule = schedules[spec["name"]]
            schedule.closed_on_holidays = spec["holidays_closed"]
            schedule.full_coverage = spec["full_coverage"]
            schedule.closed_announcement = spec["closed_announcement"]
            schedule.periods.clear()
            schedule.closures.clear()
            for period in spec["open"]:
                start, end = _minutes(period["from_"]), _minutes(period["to"])
                if end <= start:
                    end += 1440  # crosses midnight into the next day
                for day in period["days"]:
                    schedule.periods.append(
                        models.SchedulePeriod(weekday=WEEKDAYS.index(day), start_minute=start, end_minute=end)
                    )
            for closure in spec["closures"]:
                schedule.closures.append(
                    models.ScheduleClosure(
                        first_day=closure["from_"], last_day=closure["to"], name=closure["name"]
                    )
                )
            schedule.open_destination = self._dest(spec["open_destination"])
            schedule.closed_destination = self._dest(spec["closed_destination"])

    def _fill_menus(self, menus: dict[str, models.IvrMenu]) -> None:
        for spec in self.data["ivr_menus"]:
            menu = menus[spec["name"]]
            menu.greeting = spec["greeting"]
            menu.timeout_seconds = spec["timeout_seconds"]
            menu.max_attempts = spec["max_attempts"]
            for digit, dest in sorted(spec["options"].items()):
                menu.options.append(models.IvrOption(digit=digit, destination=self._dest(dest)))
            menu.timeout_destination = self._dest(spec["timeout_destination"])

    def _apply_numbers(self, tenant: models.Tenant, users: dict[str, models.User]) -> None:
        wanted: dict[str, tuple[str, Dest | None, bool]] = {}
        for index, spec in enumerate(self.data["numbers"]):
            wanted[spec["number"]] = (f"numbers[{index}].number", spec["destination"], spec["ivr_option"])
        for index, spec in enumerate(self.data["users"]):
            if spec["did"]:
                wanted[spec["did"]] = (f"users[{index}].did", ("user", spec["extension"]), False)
        for number in list(tenant.numbers):
            if number.national not in wanted:
                release_number(number)
        now = dt.datetime.now(dt.UTC)
        for national, (path, dest, ivr_option) in wanted.items():
            number = self.session.scalar(select(models.Number).where(models.Number.national == national))
            if number is None:
                try:
                    national_form, e164, kind = parse_inventory_number(national)
                except NumberError as exc:
                    self.errors.append(f"{path}: {exc}")
                    continue
                number = models.Number(national=national_form, e164=e164, kind=kind)
                self.session.add(number)
            elif number.tenant_id is not None and number.tenant_id != tenant.id:
                self.errors.append(f"{path}: {national} belongs to another tenant")
                continue
            if number.tenant_id != tenant.id:
                number.tenant = tenant
                number.assigned_at = now
            number.ivr_option = ivr_option
            number.destination = self._dest(dest)

    def _apply_park(self, tenant: models.Tenant) -> None:
        spec = self.data["park"]
        current = [(r.first_slot, r.last_slot) for r in tenant.park_ranges]
        wanted = [tuple(int(x) for x in spec["slots"].split("-"))] if spec else []
        if current != wanted:
            tenant.park_ranges.clear()
            self.session.flush()
            for first, last in wanted:
                tenant.park_ranges.append(models.ParkRange(first_slot=first, last_slot=last))


def release_number(number: models.Number) -> None:
    """Give a number back to the platform's inventory."""
    number.destination = None
    number.tenant = None
    number.assigned_at = None
    number.ivr_option = False


def apply_config(session: Session, raw: Any, actor: str = "fsctl") -> ApplyResult:
    """Create or update one tenant from a parsed file, inside the caller's transaction.

    Raises ConfigError (nothing is changed once the caller rolls back). A file that changes nothing
    leaves the tenant's config version as it was.
    """
    data = load_config(raw)
    with session.no_autoflush:
        result = _Applier(session, data, actor).run()
    return result


def _dest_out(dest: models.Destination | None) -> dict[str, Any] | None:
    if dest is None:
        return None
    kind = dest.kind.value
    target: Any = {
        "user": lambda: dest.user.extension,
        "voicemail": lambda: dest.user.extension,
        "ring_group": lambda: dest.ring_group.name,
        "ivr": lambda: dest.ivr_menu.name,
        "schedule": lambda: dest.schedule.name,
        "external": lambda: dest.external_number,
        "hangup": lambda: True,
    }[kind]()
    return {kind: target}


def export_tenant(tenant: models.Tenant) -> dict[str, Any]:
    """The tenant in the apply format; never any password or hash."""
    user_dids = {
        n.destination.user.extension: n.national
        for n in tenant.numbers
        if n.destination is not None
        and n.destination.kind == models.DestinationKind.USER
        and not n.ivr_option
    }
    # A number is written as a user's `did` only when that keeps the round trip exact.
    did_counts = Counter(user_dids.values())
    gateways = gateway_config.export_gateways(tenant)
    users = []
    for user in tenant.users:
        entry: dict[str, Any] = {
            "extension": user.extension,
            "name": user.name,
            "direction": user.direction.value,
        }
        if user.caller_id:
            entry["caller_id"] = user.caller_id
        did = user_dids.get(user.extension)
        if did and did_counts[did] == 1:
            entry["did"] = did
        entry["ring_seconds"] = user.ring_seconds
        voicemail: dict[str, Any] = {"enabled": user.voicemail_enabled}
        if user.voicemail_pin:
            voicemail["pin"] = user.voicemail_pin
        if user.voicemail_email:
            voicemail["email"] = user.voicemail_email
        voicemail["attach_audio"] = user.voicemail_attach_audio
        entry["voicemail"] = voicemail
        entry["recording"] = user.recording_enabled
        if user.schedule:
            entry["schedule"] = user.schedule.name
        forward = {
            kind: _dest_out(getattr(user, f"forward_{kind}"))
            for kind in ("always", "busy", "no_answer", "unregistered")
            if getattr(user, f"forward_{kind}") is not None
        }
        forward["no_answer_seconds"] = user.forward_no_answer_seconds
        entry["forward"] = forward
        if user.extension in gateways["users"]:
            entry["outbound_via"] = gateways["users"][user.extension]
        users.append(entry)
    written_as_did = {did for did in user_dids.values() if did_counts[did] == 1}
    numbers = [
        {"number": n.national, "destination": _dest_out(n.destination), "ivr_option": n.ivr_option}
        for n in tenant.numbers
        if n.national not in written_as_did
    ]
    return {
        "domain": tenant.domain,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "status": tenant.status.value,
        "trial_started_on": tenant.trial_started_on.isoformat(),
        "international_calls": tenant.international_calls,
        "max_external_channels": tenant.max_external_channels,
        "allowed_prefixes": list(tenant.allowed_prefixes or []),
        "users": users,
        "numbers": numbers,
        "ring_groups": [
            {
                "name": g.name,
                "members": [m.user.extension for m in g.members],
                "strategy": g.strategy.value,
                "ring_seconds": g.ring_seconds,
                "no_answer": _dest_out(g.no_answer),
            }
            for g in tenant.ring_groups
        ],
        "schedules": [_schedule_out(s) for s in tenant.schedules],
        "ivr_menus": [
            {
                "name": m.name,
                "greeting": m.greeting,
                "timeout_seconds": m.timeout_seconds,
                "max_attempts": m.max_attempts,
                "options": {o.digit: _dest_out(o.destination) for o in m.options},
                "timeout_destination": _dest_out(m.timeout_destination),
            }
            for m in tenant.ivr_menus
        ],
        "park": {"slots": f"{r.first_slot}-{r.last_slot}"}
        if (r := next(iter(tenant.park_ranges), None))
        else None,
        "gateways": gateways["gateways"],
        "outbound_via": gateways["outbound_via"],
    }


def _schedule_out(schedule: models.Schedule) -> dict[str, Any]:
    # Periods with the same hours on several days are written back as one entry.
    grouped: dict[tuple[int, int], list[str]] = {}
    for period in schedule.periods:
        grouped.setdefault((period.start_minute, period.end_minute), []).append(WEEKDAYS[period.weekday])
    return {
        "name": schedule.name,
        "open": [
            {"days": days, "from": _hhmm(start), "to": _hhmm(end % 1440 if end != 1440 else 1440)}
            for (start, end), days in grouped.items()
        ],
        "holidays_closed": schedule.closed_on_holidays,
        "full_coverage": schedule.full_coverage,
        "closures": [
            {"from": c.first_day.isoformat(), "to": c.last_day.isoformat(), "name": c.name}
            for c in schedule.closures
        ],
        "open_destination": _dest_out(schedule.open_destination),
        "closed_announcement": schedule.closed_announcement,
        "closed_destination": _dest_out(schedule.closed_destination),
    }
