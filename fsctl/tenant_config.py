"""Declarative tenant configuration: `fsctl apply FILE.yaml` and `fsctl export DOMAIN`.

The file is the whole truth about one tenant: what it does not name is removed (users) or released
(numbers). Apply runs in one transaction; any error anywhere refuses the whole file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import MANYTOONE, Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from fsctl import db, models
from fsctl.billing.ivr_option import imply_ivr_option
from fsctl.billing.subscriptions import sync_subscriptions
from fsctl.gateways import config as gateway_config
from fsctl.numbers import NumberError, parse_inventory_number
from fsctl.routing.validate import validate_routing
from fsctl.schemas import WEEKDAYS, TenantConfigSchema, ValidationError, flatten_errors

Dest = tuple[str, str | None]
FORWARD_KINDS = ("always", "busy", "no_answer", "unregistered")


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


def load_config(raw: Any, audio_names: Callable[[str], set[str]] | None = None) -> dict[str, Any]:
    """Validate a parsed YAML document: schema first, then cross references. Raises ConfigError.

    `audio_names(domain)`: the tenant's uploaded audio; when given, announcements must name one of them.
    """
    if not isinstance(raw, dict):
        raise ConfigError(["(file): must be a mapping with domain, name, users, ..."])
    try:
        data = _load_schema(raw)
    except ValidationError as exc:
        raise ConfigError(flatten_errors(exc.messages)) from exc
    errors = reference_errors(data, None if audio_names is None else audio_names(data["domain"]))
    if not errors:
        # Routing checks assume the references resolve.
        errors = validate_routing(data)
    if errors:
        raise ConfigError(errors)
    imply_ivr_option(data)
    return data


# Users validated before, by their exact content. A panel save sends a tenant's every user again with
# one changed, and marshmallow takes ~60 us a user. UserSchema checks each entry on its own, so the
# same entry always loads the same; any error is reported by a full load (the same errors, paths).
# Entries with a password are never kept (no plaintext SIP password stays in memory).
_USERS_SEEN: OrderedDict[str, dict[str, Any]] = OrderedDict()
_USERS_SEEN_MAX = 5000
_USERS_WORTH_IT = 50  # below this many users a plain load is as fast


def _load_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """TenantConfigSchema().load(raw), validating only the users not seen before."""
    users = raw.get("users")
    if not isinstance(users, list) or len(users) < _USERS_WORTH_IT:
        return TenantConfigSchema().load(raw)
    keys = [_user_key(user) for user in users]
    seen = [_USERS_SEEN.get(key) if key is not None else None for key in keys]
    new = [index for index, entry in enumerate(seen) if entry is None]
    try:
        data = TenantConfigSchema().load({**raw, "users": [users[index] for index in new]})
    except ValidationError:
        return TenantConfigSchema().load(raw)  # raises again, with every path as in the file
    for index, entry in zip(new, data["users"], strict=True):
        seen[index] = entry
        if keys[index] is not None:
            _USERS_SEEN[keys[index]] = entry  # callers only ever get copies
    for key in keys:
        if key is not None and key in _USERS_SEEN:
            _USERS_SEEN.move_to_end(key)
    while len(_USERS_SEEN) > _USERS_SEEN_MAX:
        _USERS_SEEN.popitem(last=False)
    data["users"] = [_plain_copy(entry) for entry in seen]
    return data


def _user_key(user: Any) -> str | None:
    """The entry's exact content as text (None: not to be kept)."""
    if not isinstance(user, dict) or "password" in user:
        return None
    try:
        # No default=: a value JSON cannot write exactly (a date) is not kept. Keys that are not text
        # come out as digits, true, false or null: never one of the field names a valid entry has.
        return json.dumps(user, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return value  # str, int, bool, None, enums and destination tuples are immutable


def _first_seen(items: list[Any], key) -> dict[Any, int]:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        seen.setdefault(key(item), index)
    return seen


def reference_errors(data: dict[str, Any], audio_names: set[str] | None = None) -> list[str]:
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

    # What each destination kind may name (announcements: only when the tenant's uploads are known).
    known = {
        "user": extensions,
        "voicemail": extensions,
        "ring_group": groups,
        "ivr": menus,
        "schedule": schedules,
    }
    if audio_names is not None:
        known["announcement"] = audio_names

    def check_dest(path: str, dest: Dest | None) -> None:
        if dest is None:
            return
        kind, target = dest
        if kind in known and target not in known[kind]:
            if kind == "announcement":
                errors.append(f"{path}.{kind}: no uploaded audio named {target!r} (upload it first)")
            else:
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
        if tenant is not None and inspect(tenant).unloaded & COLLECTIONS:
            tenant = load_tenant(session, models.Tenant.id == tenant.id)  # else loaded already (the panel)
        created = tenant is None
        # "Changed" = some flush of this apply bumped the config version (fsctl.db counts them).
        flushes = 0 if created else db.config_flushes(session, tenant.id)
        if tenant is None:
            tenant = models.Tenant(domain=data["domain"], config_version=1)
            session.add(tenant)
        tenant.name = data["name"]
        tenant.timezone = data["timezone"]
        tenant.language = data["language"]
        tenant.status = data["status"]
        tenant.trial_started_on = data["trial_started_on"] or tenant.trial_started_on or dt.date.today()
        tenant.international_calls = data["international_calls"]
        tenant.max_external_channels = data["max_external_channels"]
        tenant.allowed_prefixes = list(data["allowed_prefixes"])
        session.flush()

        # Rows are compared with the file and written only where they differ; what the file no longer
        # names is collected in `removed` and deleted last (_remove_unused), after the destination rows
        # that pointed at it. Destination rows are kept while they still lead where the file says.
        self.tenant = tenant
        self.kept: set[models.Destination] = set()
        self.removed: list[tuple[list, Any]] = []
        self.menus_reordered: list[models.IvrMenu] = []
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
        self._remove_unused(tenant)
        changed = created or self.credentials_changed or db.config_flushes(session, tenant.id) > flushes
        # Billing history (issue 7): users, numbers and options held from today on.
        sync_subscriptions(session, tenant)
        # New rows were appended at the ends of collections the database returns sorted.
        session.expire(tenant, COLLECTIONS)
        for menu in self.menus_reordered:
            session.expire(menu, ["options"])
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

    def _remove_unused(self, tenant: models.Tenant) -> None:
        """Delete destination rows no slot kept, then the users, groups, schedules and menus the file
        left out (destination rows reference them without ON DELETE)."""
        if any(row not in self.kept for row in tenant.destinations):
            tenant.destinations = [row for row in tenant.destinations if row in self.kept]
            self.session.flush()
        if self.removed:
            for collection, item in self.removed:
                collection.remove(item)
            self.session.flush()

    def _apply_users(self, tenant: models.Tenant) -> dict[str, models.User]:
        existing = {u.extension: u for u in tenant.users}
        wanted = {u["extension"] for u in self.data["users"]}
        self.removed.extend((tenant.users, user) for ext, user in existing.items() if ext not in wanted)
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
            vm = spec["voicemail"]
            _update(
                user,
                name=spec["name"],
                direction=spec["direction"],
                caller_id=spec["caller_id"],
                ring_seconds=spec["ring_seconds"],
                voicemail_enabled=vm["enabled"],
                voicemail_pin=vm["pin"],
                voicemail_email=vm["email"],
                voicemail_attach_audio=vm["attach_audio"],
                recording_enabled=spec["recording"],
                forward_no_answer_seconds=spec["forward"]["no_answer_seconds"],
            )
            result[spec["extension"]] = user
        self.session.flush()
        return result

    def _apply_named(self, tenant, collection: list, specs: list[dict], cls) -> dict[str, Any]:
        existing = {item.name: item for item in collection}
        wanted = {spec["name"] for spec in specs}
        # A renamed item is a new row: references to the old name are re-pointed, then it goes.
        self.removed.extend((collection, item) for name, item in existing.items() if name not in wanted)
        result = {}
        for spec in specs:
            item = existing.get(spec["name"])
            if item is None:
                item = cls(name=spec["name"])
                collection.append(item)
            result[spec["name"]] = item
        self.session.flush()
        return result

    def _dest(
        self, dest: Dest | None, current: models.Destination | None = None
    ) -> models.Destination | None:
        """The row for `dest`: `current` (the slot's row now) when it already leads there, else a new one.

        Rows compare by what the file says (_dest_out), so this holds for every kind; the rows no slot
        keeps are deleted by _remove_unused.
        """
        if dest is None:
            return None
        kind, target = dest
        if current is not None and _dest_out(current) == {kind: True if target is None else target}:
            self.kept.add(current)
            return current
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
        elif kind == "announcement":
            row.announcement = target
        self.tenant.destinations.append(row)
        self.kept.add(row)
        return row

    def _set_dest(self, owner: Any, attribute: str, dest: Dest | None) -> None:
        """Point `owner.attribute` at `dest`, leaving the row and the attribute alone when equal."""
        current = getattr(owner, attribute)
        row = self._dest(dest, current)
        if row is not current:
            setattr(owner, attribute, row)

    def _fill_users(self, users: dict[str, models.User]) -> None:
        schedules = self.refs["schedule"]
        for spec in self.data["users"]:
            user = users.get(spec["extension"])
            if user is None:
                continue
            schedule = schedules[spec["schedule"]] if spec["schedule"] else None
            if user.schedule is not schedule:
                user.schedule = schedule
            for kind in FORWARD_KINDS:
                self._set_dest(user, f"forward_{kind}", spec["forward"][kind])

    def _fill_groups(self, groups: dict[str, models.RingGroup], users: dict[str, models.User]) -> None:
        rebuild = []
        for spec in self.data["ring_groups"]:
            group = groups[spec["name"]]
            _update(group, strategy=spec["strategy"], ring_seconds=spec["ring_seconds"])
            members = [(users[ext], position) for position, ext in enumerate(spec["members"]) if ext in users]
            if [(m.user_id, m.position) for m in group.members] != [(u.id, p) for u, p in members]:
                group.members.clear()
                rebuild.append((group, members))
            self._set_dest(group, "no_answer", spec["no_answer"])
        if rebuild:
            # Old member rows go first: (group, user) and (group, position) are both unique.
            self.session.flush()
            for group, members in rebuild:
                group.members.extend(models.RingGroupMember(user=u, position=p) for u, p in members)

    def _fill_schedules(self, schedules: dict[str, models.Schedule]) -> None:
        for spec in self.data["schedules"]:
            schedule = schedules[spec["name"]]
            _update(
                schedule,
                closed_on_holidays=spec["holidays_closed"],
                full_coverage=spec["full_coverage"],
                closed_announcement=spec["closed_announcement"],
            )
            periods = []
            for period in spec["open"]:
                start, end = _minutes(period["from_"]), _minutes(period["to"])
                if end <= start:
                    end += 1440  # crosses midnight into the next day
                periods.extend((WEEKDAYS.index(day), start, end) for day in period["days"])
            if sorted(periods) != sorted((p.weekday, p.start_minute, p.end_minute) for p in schedule.periods):
                schedule.periods.clear()
                schedule.periods.extend(
                    models.SchedulePeriod(weekday=day, start_minute=start, end_minute=end)
                    for day, start, end in periods
                )
            closures = [(c["from_"], c["to"], c["name"]) for c in spec["closures"]]
            if sorted(closures) != sorted((c.first_day, c.last_day, c.name) for c in schedule.closures):
                schedule.closures.clear()
                schedule.closures.extend(
                    models.ScheduleClosure(first_day=first, last_day=last, name=name)
                    for first, last, name in closures
                )
            self._set_dest(schedule, "open_destination", spec["open_destination"])
            self._set_dest(schedule, "closed_destination", spec["closed_destination"])

    def _fill_menus(self, menus: dict[str, models.IvrMenu]) -> None:
        for _collection, item in self.removed:
            if isinstance(item, models.IvrMenu):
                # Options reference their destination rows (NOT NULL): they go before those rows.
                item.options.clear()
        for spec in self.data["ivr_menus"]:
            menu = menus[spec["name"]]
            _update(
                menu,
                greeting=spec["greeting"],
                timeout_seconds=spec["timeout_seconds"],
                max_attempts=spec["max_attempts"],
            )
            options = {option.digit: option for option in menu.options}
            for digit, option in options.items():
                if digit not in spec["options"]:
                    menu.options.remove(option)
            for digit, dest in sorted(spec["options"].items()):
                if digit in options:
                    self._set_dest(options[digit], "destination", dest)
                else:
                    menu.options.append(models.IvrOption(digit=digit, destination=self._dest(dest)))
                    self.menus_reordered.append(menu)
            self._set_dest(menu, "timeout_destination", spec["timeout_destination"])

    def _apply_numbers(self, tenant: models.Tenant, users: dict[str, models.User]) -> None:
        wanted: dict[str, tuple[str, Dest | None, bool]] = {}
        for index, spec in enumerate(self.data["numbers"]):
            wanted[spec["number"]] = (f"numbers[{index}].number", spec["destination"], spec["ivr_option"])
        for index, spec in enumerate(self.data["users"]):
            if spec["did"]:
                wanted[spec["did"]] = (f"users[{index}].did", ("user", spec["extension"]), False)
        owned = {}
        for number in list(tenant.numbers):
            if number.national in wanted:
                owned[number.national] = number
            else:
                release_number(number)
        others = _numbers_by_national(self.session, [n for n in wanted if n not in owned])
        now = dt.datetime.now(dt.UTC)
        for national, (path, dest, ivr_option) in wanted.items():
            number = owned.get(national) or others.get(national)
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
            if number.ivr_option != ivr_option:
                number.ivr_option = ivr_option
            self._set_dest(number, "destination", dest)

    def _apply_park(self, tenant: models.Tenant) -> None:
        spec = self.data["park"]
        current = [(r.first_slot, r.last_slot) for r in tenant.park_ranges]
        wanted = [tuple(int(x) for x in spec["slots"].split("-"))] if spec else []
        if current != wanted:
            tenant.park_ranges.clear()
            self.session.flush()
            for first, last in wanted:
                tenant.park_ranges.append(models.ParkRange(first_slot=first, last_slot=last))


def _update(row: Any, **values: Any) -> None:
    """Set only the attributes that differ, so an unchanged row stays out of the flush (and the
    config version stays as it was)."""
    persistent = inspect(row).persistent
    for key, value in values.items():
        if not persistent or getattr(row, key) != value:
            setattr(row, key, value)


def _numbers_by_national(session: Session, nationals: list[str]) -> dict[str, models.Number]:
    found: dict[str, models.Number] = {}
    for start in range(0, len(nationals), 500):
        chunk = nationals[start : start + 500]
        found.update(
            (n.national, n)
            for n in session.scalars(select(models.Number).where(models.Number.national.in_(chunk)))
        )
    return found


# The tenant's collections load_tenant fills (and apply_config expires once it has appended to them).
COLLECTIONS = {"users", "numbers", "destinations", "ring_groups", "schedules", "ivr_menus", "park_ranges"}


def load_tenant(session: Session, *where: Any, fresh: bool = False) -> models.Tenant | None:
    """The tenant with everything apply_config and export_tenant read: one query per table.

    `fresh`: rows already in the session are read again too (populate_existing), so every row returned
    is at least as new as the tenant's config_version read by the same call.

    Collections come from selectin loads; the many-to-one references between the rows loaded (a
    forward's destination, a destination's user, a member's user) are then linked in memory
    (_link_references). Loading those with more selectin loads read every user and destination twice,
    and resolving them lazily costs ~20 us each: both were most of a 1,000-user export.
    """
    tenant_cls = models.Tenant
    options = (
        selectinload(tenant_cls.users),
        selectinload(tenant_cls.numbers),
        selectinload(tenant_cls.destinations),
        selectinload(tenant_cls.ring_groups).selectinload(models.RingGroup.members),
        selectinload(tenant_cls.schedules).selectinload(models.Schedule.periods),
        selectinload(tenant_cls.schedules).selectinload(models.Schedule.closures),
        selectinload(tenant_cls.ivr_menus).selectinload(models.IvrMenu.options),
        selectinload(tenant_cls.park_ranges),
    )
    query = select(tenant_cls).where(*where).options(*options)
    if fresh:
        query = query.execution_options(populate_existing=True)
    tenant = session.scalar(query)
    if tenant is not None:
        _link_references(tenant)
    return tenant


def _link_references(tenant: models.Tenant) -> None:
    """Set every not yet loaded many-to-one reference among the tenant's loaded rows, as a lazy load
    would (same foreign key, same object), without its per-row cost. Unknown targets stay lazy."""
    by_class: dict[type, dict[int, Any]] = {models.Tenant: {tenant.id: tenant}}
    rows: list[Any] = []
    for name in ("users", "numbers", "destinations", "ring_groups", "schedules", "ivr_menus"):
        collection = getattr(tenant, name)
        rows.extend(collection)
        if collection:
            by_class[type(collection[0])] = {row.id: row for row in collection}
    for group in tenant.ring_groups:
        rows.extend(group.members)
    for menu in tenant.ivr_menus:
        rows.extend(menu.options)
    for row in rows:
        state = inspect(row)
        for key, fk, target in _many_to_one(type(row)):
            if key in state.dict or fk not in state.dict or target not in by_class:
                continue
            value = state.dict[fk]
            if value is None:
                set_committed_value(row, key, None)
            elif (found := by_class[target].get(value)) is not None:
                set_committed_value(row, key, found)


_MANY_TO_ONE: dict[type, list[tuple[str, str, type]]] = {}


def _many_to_one(cls: type) -> list[tuple[str, str, type]]:
    """(relationship, its one foreign key attribute, target class) for each simple many-to-one of cls."""
    found = _MANY_TO_ONE.get(cls)
    if found is None:
        mapper = inspect(cls)
        found = []
        for rel in mapper.relationships:
            if rel.direction is MANYTOONE and len(rel.local_columns) == 1:
                (column,) = rel.local_columns
                found.append((rel.key, mapper.get_property_by_column(column).key, rel.mapper.class_))
        _MANY_TO_ONE[cls] = found
    return found


def release_number(number: models.Number) -> None:
    """Give a number back to the platform's inventory."""
    number.destination = None
    number.tenant = None
    number.assigned_at = None
    number.ivr_option = False


def _audio_names(session: Session, domain: str) -> set[str]:
    """The uploaded audio of the tenant a file names (none yet for a new tenant)."""
    return set(
        session.scalars(
            select(models.AudioFile.name)
            .join(models.Tenant, models.Tenant.id == models.AudioFile.tenant_id)
            .where(models.Tenant.domain == domain.lower())
        )
    )


def apply_config(session: Session, raw: Any, actor: str = "fsctl") -> ApplyResult:
    """Create or update one tenant from a parsed file, inside the caller's transaction.

    Raises ConfigError (nothing is changed once the caller rolls back). A file that changes nothing
    leaves the tenant's config version as it was.
    """
    data = load_config(raw, lambda domain: _audio_names(session, domain))
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
        "announcement": lambda: dest.announcement,
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
        "language": tenant.language,
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
