"""The tenant file's apply writes only what differs: statements counted, destination rows kept, references moved."""

from __future__ import annotations

import copy
from collections import Counter, OrderedDict
from contextlib import contextmanager
from typing import Any

import pytest
from kumo_support import tenant_doc
from sqlalchemy import event, select

from fsctl import db, models
from fsctl.tenant_file import ConfigError, load_tenant
from fsctl.wiring import tenant_file

AUDIT_TABLE = models.AuditEntry.__tablename__


def big_doc(users: int = 40) -> dict[str, Any]:
    """A tenant with something of every kind pointing at something of every other kind."""
    exts = [str(200 + i) for i in range(users)]
    return tenant_doc(
        users=[
            {
                "extension": ext,
                "name": f"利用者 {ext}",
                "password": f"Pass-{ext}-secret",
                "voicemail": {"pin": "2468"},
                "forward": {"no_answer": {"voicemail": ext}, "busy": {"voicemail": exts[(i + 1) % users]}},
                **({"did": f"03123460{i:02d}", "caller_id": f"03123460{i:02d}"} if i < 5 else {}),
            }
            for i, ext in enumerate(exts)
        ],
        numbers=[
            {"number": f"03123451{i:02d}", "destination": {"ring_group": f"group{i % 3}"}} for i in range(6)
        ]
        + [{"number": "0312345099", "destination": {"ivr": "main"}, "ivr_option": True}],
        ring_groups=[
            {"name": f"group{g}", "members": exts[g * 5 : g * 5 + 5], "no_answer": {"voicemail": exts[g]}}
            for g in range(3)
        ],
        schedules=[
            {
                "name": "business",
                "open": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"},
                    {"days": ["sat"], "from": "22:00", "to": "06:00"},
                ],
                "closures": [{"from": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}],
                "open_destination": {"ring_group": "group0"},
                "closed_destination": {"voicemail": exts[0]},
            },
            {"name": "night", "open": [{"days": ["sun"], "from": "00:00", "to": "24:00"}]},
        ],
        ivr_menus=[
            {
                "name": "main",
                "options": {
                    "1": {"ring_group": "group1"},
                    "2": {"user": exts[2]},
                    "9": {"external": "0901234567"},
                },
                "timeout_destination": {"schedule": "business"},
            }
        ],
        gateways=[
            {
                "name": "honsha",
                "password": "Gw-secret-0001",
                "channels": 4,
                "numbers": [{"number": "0355550100", "destination": {"schedule": "business"}}],
            }
        ],
    )


@pytest.fixture
def writes(engine):
    """Every INSERT/UPDATE/DELETE the engine runs while `recording()` is active, as 'VERB table' lines.

    Audit entries are left out, and so is the config-version bump (UPDATE tenants SET config_version),
    which fsctl.db makes once per flush that changed something: the tests check the version itself.
    """
    seen: list[str] = []
    active = [False]

    def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        words = statement.split()
        verb = words[0].upper()
        if not active[0] or verb not in ("INSERT", "UPDATE", "DELETE"):
            return
        table = words[1] if verb == "UPDATE" else words[2]
        bump = verb == "UPDATE" and statement.split(" SET ")[1].startswith("config_version=")
        if table.strip('"') != AUDIT_TABLE and not bump:
            seen.extend([f"{verb} {table.strip(chr(34))}"] * (len(parameters) if executemany else 1))

    @contextmanager
    def recording():
        seen.clear()
        active[0] = True
        try:
            yield seen
        finally:
            active[0] = False

    event.listen(engine, "before_cursor_execute", record)
    yield recording
    event.remove(engine, "before_cursor_execute", record)


def acme(session) -> models.Tenant:
    return db.tenant_by_domain(session, "acme.kumo.test")


def destination_ids(session) -> dict[str, int | None]:
    """Each slot that can hold a destination -> the destination row id it holds."""
    ids: dict[str, int | None] = {}
    for user in session.scalars(select(models.User)):
        for kind in ("always", "busy", "no_answer", "unregistered"):
            ids[f"user {user.extension} {kind}"] = getattr(user, f"forward_{kind}_id")
    for number in session.scalars(select(models.Number)):
        ids[f"number {number.national}"] = number.destination_id
    for group in session.scalars(select(models.RingGroup)):
        ids[f"group {group.name}"] = group.no_answer_id
    for schedule in session.scalars(select(models.Schedule)):
        ids[f"schedule {schedule.name} open"] = schedule.open_destination_id
        ids[f"schedule {schedule.name} closed"] = schedule.closed_destination_id
    for menu in session.scalars(select(models.IvrMenu)):
        ids[f"menu {menu.name} timeout"] = menu.timeout_destination_id
    for option in session.scalars(select(models.IvrOption)):
        ids[f"option {option.ivr_menu_id} {option.digit}"] = option.destination_id
    for carried in session.scalars(select(models.GatewayNumber)):
        ids[f"carried {carried.national}"] = carried.destination_id
    return ids


def unreferenced_destinations(session) -> set[int]:
    """Destination rows nothing points at (every foreign key into destinations, whoever added it)."""
    referenced: set[int] = set()
    for table in models.Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "destinations" and table.name != "destinations":
                referenced |= set(session.scalars(select(fk.parent).where(fk.parent.is_not(None))))
    return set(session.scalars(select(models.Destination.id))) - referenced


def apply_and_export(session_factory, doc) -> tuple[Any, dict]:
    with db.session_scope(session_factory) as session:
        result = tenant_file().apply(session, copy.deepcopy(doc))
    with db.session_scope(session_factory) as session:
        assert unreferenced_destinations(session) == set()
        return result, tenant_file().export(acme(session))


@pytest.fixture
def big(session_factory) -> dict:
    """The big tenant applied; its export (the document the panel edits)."""
    return apply_and_export(session_factory, big_doc())[1]


def test_saving_one_user_writes_that_users_row_and_the_version_only(session_factory, big, writes):
    with db.session_scope(session_factory) as session:
        version = acme(session).config_version
    doc = copy.deepcopy(big)
    doc["users"][20]["name"] = "改名 太郎"
    doc["users"][21]["ring_seconds"] = 35
    with writes() as seen, db.session_scope(session_factory) as session:
        result = tenant_file().apply(session, doc)
    assert result.changed and result.config_version == version + 1
    assert Counter(seen) == {"UPDATE users": 2}
    with db.session_scope(session_factory) as session:
        assert tenant_file().export(acme(session)) == doc


def test_a_changed_forward_replaces_its_destination_row_only(session_factory, big, writes):
    with db.session_scope(session_factory) as session:
        before = destination_ids(session)
    doc = copy.deepcopy(big)
    doc["users"][7]["forward"]["busy"] = {"external": "0312349999"}
    with db.session_scope(session_factory) as session:
        version = acme(session).config_version
    with writes() as seen, db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, doc).config_version > version
    assert Counter(seen) == {"INSERT destinations": 1, "UPDATE users": 1, "DELETE destinations": 1}
    with db.session_scope(session_factory) as session:
        after = destination_ids(session)
        assert tenant_file().export(acme(session)) == doc
        assert unreferenced_destinations(session) == set()
    changed = {slot for slot in before if before[slot] != after[slot]}
    assert changed == {"user 207 busy"}
    assert after["user 207 busy"] not in before.values()


def test_applying_the_same_document_again_writes_nothing(session_factory, big, writes):
    with db.session_scope(session_factory) as session:
        version = acme(session).config_version
    with writes() as seen, db.session_scope(session_factory) as session:
        # No rollback here: an unchanged apply must leave nothing to commit.
        first = tenant_file().apply(session, copy.deepcopy(big))
        second = tenant_file().apply(session, copy.deepcopy(big))
    assert not first.changed and not second.changed
    assert seen == []
    with db.session_scope(session_factory) as session:
        assert acme(session).config_version == version
        audits = session.scalars(select(models.AuditEntry.action)).all()
        assert audits == ["tenant.apply"]  # the creation only


def test_two_changes_in_one_session_are_both_seen(session_factory, big):
    doc = copy.deepcopy(big)
    with db.session_scope(session_factory) as session:
        doc["users"][3]["name"] = "一回目"
        assert tenant_file().apply(session, copy.deepcopy(doc)).changed
        doc["users"][4]["forward"]["always"] = {"user": "205"}
        assert tenant_file().apply(session, copy.deepcopy(doc)).changed
        assert not tenant_file().apply(session, copy.deepcopy(doc)).changed
        assert tenant_file().export(acme(session)) == doc
    with db.session_scope(session_factory) as session:
        assert tenant_file().export(acme(session)) == doc


def rename(value: Any, kind: str, old: str, new: str) -> Any:
    if isinstance(value, dict):
        if value == {kind: old}:
            return {kind: new}
        return {key: rename(item, kind, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [rename(item, kind, old, new) for item in value]
    return value


SECTIONS = {"ring_groups": models.RingGroup, "schedules": models.Schedule, "ivr_menus": models.IvrMenu}


@pytest.mark.parametrize(
    ("section", "kind", "old"),
    [
        ("ring_groups", "ring_group", "group0"),
        ("schedules", "schedule", "business"),
        ("ivr_menus", "ivr", "main"),
    ],
)
def test_a_rename_moves_every_reference_to_the_new_row(session_factory, big, section, kind, old):
    """The panel renames by rewriting every reference in the document; apply sees a new name."""
    cls = SECTIONS[section]
    with db.session_scope(session_factory) as session:
        before = destination_ids(session)
        old_id = session.scalar(select(cls.id).where(cls.name == old))
    doc = rename(copy.deepcopy(big), kind, old, "renamed")
    next(item for item in doc[section] if item["name"] == old)["name"] = "renamed"
    result, exported = apply_and_export(session_factory, doc)
    assert result.changed
    doc[section].sort(key=lambda item: item["name"])
    assert exported == doc
    with db.session_scope(session_factory) as session:
        assert session.get(cls, old_id) is None
        after = destination_ids(session)
    both = before.keys() & after.keys()
    moved = {slot for slot in both if before[slot] != after[slot]}
    # Exactly the slots that named the old row got new destination rows; every other kept its own.
    assert moved == {slot for slot in both if _names(big, slot, kind, old)}
    assert moved


def _names(doc: dict, slot: str, kind: str, name: str) -> bool:
    """Whether the document's slot (as destination_ids names it) leads to {kind: name}."""
    target = {kind: name}
    what, key, *rest = slot.split(" ")
    if what == "user":
        user = next(u for u in doc["users"] if u["extension"] == key)
        return user["forward"].get(rest[0]) == target
    if what == "number":
        for number in doc["numbers"]:
            if number["number"] == key:
                return number["destination"] == target
        return target == {"user": next((u["extension"] for u in doc["users"] if u.get("did") == key), None)}
    if what == "group":
        return next(g for g in doc["ring_groups"] if g["name"] == key)["no_answer"] == target
    if what == "schedule":
        schedule = next(s for s in doc["schedules"] if s["name"] == key)
        return schedule[f"{rest[0]}_destination"] == target
    if what == "menu":
        return next(m for m in doc["ivr_menus"] if m["name"] == key)["timeout_destination"] == target
    if what == "option":
        return doc["ivr_menus"][0]["options"].get(rest[0]) == target
    if what == "carried":
        return doc["gateways"][0]["numbers"][0]["destination"] == target
    raise AssertionError(slot)


def test_removing_users_groups_schedules_and_menus_at_once(session_factory, big):
    doc = copy.deepcopy(big)
    gone = {"200", "201", "202", "203", "204"}  # all of group0, which goes too
    doc["users"] = [u for u in doc["users"] if u["extension"] not in gone]
    for user in doc["users"]:
        for kind in ("busy", "no_answer"):
            if user["forward"].get(kind, {}).get("voicemail") in gone:
                user["forward"][kind] = {"hangup": True}
    doc["ring_groups"] = [g for g in doc["ring_groups"] if g["name"] != "group0"]
    for group in doc["ring_groups"]:
        group["no_answer"] = {"voicemail": "210"}
    doc["numbers"] = [
        {**n, "destination": {"ring_group": "group1"}}
        for n in doc["numbers"]
        if n["destination"] != {"ivr": "main"}
    ]
    doc["schedules"] = [s for s in doc["schedules"] if s["name"] != "business"]
    doc["ivr_menus"] = []
    doc["gateways"][0]["numbers"][0]["destination"] = {"schedule": "night"}
    result, exported = apply_and_export(session_factory, doc)
    assert result.changed
    # The five removed users' DIDs went back to the inventory.
    assert exported == doc
    with db.session_scope(session_factory) as session:
        assert session.scalar(select(models.IvrOption.digit)) is None
        assert [g.name for g in acme(session).ring_groups] == ["group1", "group2"]
    assert not apply_and_export(session_factory, doc)[0].changed


def test_members_reordered_forwards_swapped_options_moved(session_factory, big, writes):
    doc = copy.deepcopy(big)
    doc["ring_groups"][1]["members"].reverse()
    first, second = doc["users"][10]["forward"], doc["users"][11]["forward"]
    first["busy"], second["busy"] = second["busy"], first["busy"]
    options = doc["ivr_menus"][0]["options"]
    options["3"] = options.pop("2")
    options["1"] = {"voicemail": "230"}
    # The same opening hours written the other way round: not a change.
    doc["schedules"][0]["open"].reverse()
    result, exported = apply_and_export(session_factory, doc)
    assert result.changed
    doc["schedules"][0]["open"].reverse()
    assert exported == doc
    with writes() as seen, db.session_scope(session_factory) as session:
        hours = copy.deepcopy(doc)
        hours["schedules"][0]["open"] = [
            {"days": ["sat"], "from": "22:00", "to": "06:00"},
            {"days": ["fri", "thu", "wed", "tue", "mon"], "from": "09:00", "to": "18:00"},
        ]
        assert not tenant_file().apply(session, hours).changed
    assert seen == []


def test_a_big_export_reads_each_table_once(session_factory, engine):
    """Loading and exporting a tenant takes the same queries for 60 users as for 15."""
    queries: list[str] = []
    counts = []

    def count(_conn, _cursor, statement, *_args) -> None:
        queries.append(statement)

    for users in (15, 60):
        with db.session_scope(session_factory) as session:
            tenant_file().apply(session, big_doc(users))
        queries.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with db.session_scope(session_factory) as session:
                assert (
                    len(
                        tenant_file().export(load_tenant(session, models.Tenant.domain == "acme.kumo.test"))[
                            "users"
                        ]
                    )
                    == users
                )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(queries))
    # One query per table: the core's, gateways', conference rooms', call queues', the phonebook's,
    # screening's and fax numbers'.
    assert counts[0] == counts[1] <= 20


def _file(users: int = 60) -> dict:
    doc = big_doc(users)
    for user in doc["users"]:
        del user["password"]
    return doc


def test_validation_of_users_seen_before_loads_the_same_data(monkeypatch):
    monkeypatch.setattr(tenant_file().schema, "users_seen", OrderedDict())
    doc = _file()
    expected = tenant_file().schema.schema().load(copy.deepcopy(doc))
    for _ in range(3):
        loaded = tenant_file().load(copy.deepcopy(doc))
        assert loaded["users"] == expected["users"]
        assert {k: v for k, v in loaded.items() if k != "users"} == {
            k: v for k, v in expected.items() if k != "users"
        }
        assert len(tenant_file().schema.users_seen) == 60
        loaded["users"][0]["voicemail"]["pin"] = "0000"  # the caller's copy, not the remembered one
        loaded["users"][1]["forward"]["busy"] = None


def test_an_error_in_a_file_of_known_users_is_reported_by_its_path(monkeypatch):
    monkeypatch.setattr(tenant_file().schema, "users_seen", OrderedDict())
    doc = _file()
    tenant_file().load(copy.deepcopy(doc))
    bad = copy.deepcopy(doc)
    bad["users"][57]["voicemail"]["pin"] = "12"
    bad["users"][3]["ring_seconds"] = 1
    bad["timezone"] = "Mars/Olympus"
    with pytest.raises(ConfigError) as warm:
        tenant_file().load(copy.deepcopy(bad))
    monkeypatch.setattr(tenant_file().schema, "users_seen", OrderedDict())
    with pytest.raises(ConfigError) as cold:
        tenant_file().load(copy.deepcopy(bad))
    assert warm.value.errors == cold.value.errors
    assert ("users", 57, "voicemail", "pin") in [error.path for error in warm.value.errors]
    assert "users[57].voicemail.pin: 4 to 12 digits" in map(str, warm.value.errors)
    assert any(str(error).startswith("users[3].ring_seconds: ") for error in warm.value.errors)


def test_no_password_is_remembered(monkeypatch):
    monkeypatch.setattr(tenant_file().schema, "users_seen", OrderedDict())
    tenant_file().load(big_doc(60))
    assert tenant_file().schema.users_seen == {}


def test_announcement_destinations_are_kept_and_replaced_like_every_kind(session_factory, big, writes):
    with db.session_scope(session_factory) as session:
        tenant_id = acme(session).id
        session.add_all([models.AudioFile(tenant_id=tenant_id, name=name) for name in ("hours", "goodbye")])
    doc = copy.deepcopy(big)
    doc["numbers"][0]["destination"] = {"announcement": "hours"}
    doc["ivr_menus"][0]["options"]["9"] = {"announcement": "goodbye"}
    result, exported = apply_and_export(session_factory, doc)
    assert result.changed and exported == doc
    assert not apply_and_export(session_factory, doc)[0].changed
    with db.session_scope(session_factory) as session:
        before = destination_ids(session)
    doc["numbers"][0]["destination"] = {"announcement": "goodbye"}
    with writes() as seen, db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, copy.deepcopy(doc)).changed
    assert Counter(seen) == {"INSERT destinations": 1, "UPDATE numbers": 1, "DELETE destinations": 1}
    with db.session_scope(session_factory) as session:
        after = destination_ids(session)
        assert tenant_file().export(acme(session)) == doc
    number = f"number {doc['numbers'][0]['number']}"
    assert {slot for slot in before if before[slot] != after[slot]} == {number}
