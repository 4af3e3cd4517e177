"""Applying a checked tenant file: rows are compared with the file and written only where they differ.

The file is the whole truth about one tenant: what it does not name is removed (users) or released
(numbers). Apply runs in the caller's transaction; any error anywhere refuses the whole file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from fsctl import db, models
from fsctl.cluster import place_new_tenant
from fsctl.numbers import NumberError, parse_inventory_number
from fsctl.schemas import WEEKDAYS
from fsctl.tenant_file.check import FORWARD_KINDS, Dest, minutes, parse_until
from fsctl.tenant_file.errors import ConfigError, FieldError, Path
from fsctl.tenant_file.export import dest_out
from fsctl.tenant_file.load import COLLECTIONS, load_tenant
from fsctl.tenant_file.section import Section


@dataclass
class ApplyResult:
    domain: str
    created: bool
    changed: bool
    config_version: int


def a1_hash(extension: str, domain: str, password: str) -> str:
    """The SIP digest HA1 FreeSWITCH checks against: md5(user:realm:password)."""
    return hashlib.md5(f"{extension}:{domain}:{password}".encode()).hexdigest()  # noqa: S324 - SIP digest needs MD5


class Applier:
    """One apply of a tenant file: the core's rows first, then each section's (`apply`, then `settle`).

    What a section may use: `session`, `data` (the checked file), `tenant`, `error` and `set_dest`.
    """

    def __init__(
        self,
        session: Session,
        data: dict[str, Any],
        actor: str,
        sections: Sequence[Section] = (),
        unchanged_users: frozenset[str] = frozenset(),
    ):
        self.session = session
        self.data = data
        self.actor = actor
        self.sections = tuple(sections)
        # Users the caller vouches are as exported at this version: comparing each of their dozen
        # columns and forwards again was a third of saving one user of 1,000 from the panel.
        self.unchanged_users = unchanged_users
        self.errors: list[FieldError] = []
        # Exports never show credentials, so a new password alone is noticed here.
        self.credentials_changed = False

    def error(self, path: Path, message: str, code: str = "", params: dict[str, Any] | None = None) -> None:
        """Refuse the file (once every section has run) for `message` at `path`."""
        self.errors.append(FieldError(path, message, code, params or {}))

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
            place_new_tenant(session, tenant)
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
        for section in self.sections:
            section.apply(self, tenant)
        if self.errors:
            raise ConfigError(self.errors)
        session.flush()
        self._remove_unused(tenant)
        changed = created or self.credentials_changed or db.config_flushes(session, tenant.id) > flushes
        for section in self.sections:
            section.settle(self, tenant)
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
            if user is not None and spec["extension"] in self.unchanged_users and "password" not in spec:
                result[spec["extension"]] = user
                continue
            if user is None:
                if "password" not in spec:
                    self.error(("users", index, "password"), "required for a new user")
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
            if spec["do_not_disturb"] is not None:
                _update(user, do_not_disturb=spec["do_not_disturb"])
            elif user.do_not_disturb is None:
                user.do_not_disturb = False
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

        Rows compare by what the file says (dest_out), so this holds for every kind; the rows no slot
        keeps are deleted by _remove_unused.
        """
        if dest is None:
            return None
        kind, target = dest
        if current is not None and dest_out(current) == {kind: True if target is None else target}:
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

    def set_dest(self, owner: Any, attribute: str, dest: Dest | None) -> None:
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
            if spec["extension"] in self.unchanged_users:
                # Its forwards lead where they did: keep their rows (_remove_unused deletes the rest).
                self.kept.update(
                    row for kind in FORWARD_KINDS if (row := getattr(user, f"forward_{kind}")) is not None
                )
                continue
            schedule = schedules[spec["schedule"]] if spec["schedule"] else None
            if user.schedule is not schedule:
                user.schedule = schedule
            for kind in FORWARD_KINDS:
                self.set_dest(user, f"forward_{kind}", spec["forward"][kind])

    def _fill_groups(self, groups: dict[str, models.RingGroup], users: dict[str, models.User]) -> None:
        rebuild = []
        for spec in self.data["ring_groups"]:
            group = groups[spec["name"]]
            _update(group, strategy=spec["strategy"], ring_seconds=spec["ring_seconds"])
            members = [(users[ext], position) for position, ext in enumerate(spec["members"]) if ext in users]
            if [(m.user_id, m.position) for m in group.members] != [(u.id, p) for u, p in members]:
                group.members.clear()
                rebuild.append((group, members))
            self.set_dest(group, "no_answer", spec["no_answer"])
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
            self._set_override(schedule, spec["override"])
            periods = []
            for period in spec["open"]:
                start, end = minutes(period["from_"]), minutes(period["to"])
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
            self.set_dest(schedule, "open_destination", spec["open_destination"])
            self.set_dest(schedule, "closed_destination", spec["closed_destination"])

    def _set_override(self, schedule: models.Schedule, spec: dict | None) -> None:
        """The override as the file says (stored in UTC); an until already past is kept as written:
        routing ignores it, the panel shows it ended."""
        mode = spec["mode"] if spec else None
        until = parse_until(spec["until"]) if spec and spec["until"] else None
        until = until.astimezone(dt.UTC) if until is not None else None
        stored = schedule.override_until
        if stored is not None and stored.tzinfo is None:
            stored = stored.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
        if schedule.override_mode != mode or stored != until:
            schedule.override_mode = mode
            schedule.override_until = until

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
                    self.set_dest(options[digit], "destination", dest)
                else:
                    menu.options.append(models.IvrOption(digit=digit, destination=self._dest(dest)))
                    self.menus_reordered.append(menu)
            self.set_dest(menu, "timeout_destination", spec["timeout_destination"])

    def _apply_numbers(self, tenant: models.Tenant, users: dict[str, models.User]) -> None:
        wanted: dict[str, tuple[Path, Dest | None, bool]] = {}
        for index, spec in enumerate(self.data["numbers"]):
            wanted[spec["number"]] = (("numbers", index, "number"), spec["destination"], spec["ivr_option"])
        for index, spec in enumerate(self.data["users"]):
            if spec["did"]:
                wanted[spec["did"]] = (("users", index, "did"), ("user", spec["extension"]), False)
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
                    self.error(path, str(exc))
                    continue
                number = models.Number(national=national_form, e164=e164, kind=kind)
                self.session.add(number)
            elif number.tenant_id is not None and number.tenant_id != tenant.id:
                self.error(
                    path, f"{national} belongs to another tenant", "other_tenant", {"number": national}
                )
                continue
            if number.tenant_id != tenant.id:
                number.tenant = tenant
                number.assigned_at = now
            if number.ivr_option != ivr_option:
                number.ivr_option = ivr_option
            self.set_dest(number, "destination", dest)

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


def release_number(number: models.Number) -> None:
    """Give a number back to the platform's inventory."""
    number.destination = None
    number.tenant = None
    number.assigned_at = None
    number.ivr_option = False


def audio_names(session: Session, domain: str) -> set[str]:
    """The uploaded audio of the tenant a file names (none yet for a new tenant)."""
    return set(
        session.scalars(
            select(models.AudioFile.name)
            .join(models.Tenant, models.Tenant.id == models.AudioFile.tenant_id)
            .where(models.Tenant.domain == domain.lower())
        )
    )


def apply_document(
    session: Session,
    data: dict[str, Any],
    sections: Sequence[Section],
    actor: str = "fsctl",
    unchanged_users: frozenset[str] = frozenset(),
) -> ApplyResult:
    """Create or update the tenant of a checked file, inside the caller's transaction; raises ConfigError.

    `unchanged_users`: extensions whose entries are exactly as exported at the version being
    changed (the panel knows: it started from that export), so their rows are left as they are."""
    with session.no_autoflush:
        return Applier(session, data, actor, sections, unchanged_users).run()
