"""`fsctl apply` / `fsctl export`: validation by path, atomicity, idempotence, round trip."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from kumo_support import REPO_ROOT, tenant_doc
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fsctl import db, models
from fsctl.cli import apply_file, main
from fsctl.inventory import add_numbers
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file


def tenant(session, domain="acme.kumo.test") -> models.Tenant:
    return db.tenant_by_domain(session, domain)


def test_apply_creates_the_whole_tenant(session_factory, make_tenant):
    make_tenant()
    with db.session_scope(session_factory) as session:
        acme = tenant(session)
        assert acme.name == "株式会社アクメ" and acme.status == models.TenantStatus.ACTIVE
        assert acme.max_external_channels == 8 and acme.international_calls is False
        assert [u.extension for u in acme.users] == ["101", "102"]
        yamada = acme.users[0]
        assert yamada.a1_hash == hashlib.md5(b"101:acme.kumo.test:Str0ng-101-pass").hexdigest()
        assert acme.users[1].direction == models.Direction.INBOUND_ONLY
        numbers = {n.national: n for n in acme.numbers}
        assert numbers["0312345678"].e164 == "+81312345678"
        assert numbers["0312345678"].destination.ring_group.name == "reception"
        assert numbers["0312345001"].destination.user.extension == "101"
        assert [m.user.extension for m in acme.ring_groups[0].members] == ["101", "102"]
        assert [(r.first_slot, r.last_slot) for r in acme.park_ranges] == [(700, 719)]


def test_no_plaintext_password_is_stored_or_exported(session_factory, make_tenant, engine):
    make_tenant()
    with engine.connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                assert "Str0ng-101-pass" not in repr(row)
    with db.session_scope(session_factory) as session:
        exported = yaml.safe_dump(tenant_file().export(tenant(session)), allow_unicode=True)
    assert "password" not in exported and "a1" not in exported


def test_export_then_apply_is_a_no_op(session_factory, make_tenant):
    make_tenant()
    with db.session_scope(session_factory) as session:
        exported = tenant_file().export(tenant(session))
        version = tenant(session).config_version
    with db.session_scope(session_factory) as session:
        result = tenant_file().apply(session, yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True)))
        assert result.changed is False
        session.rollback()
    with db.session_scope(session_factory) as session:
        assert tenant_file().export(tenant(session)) == exported
        assert tenant(session).config_version == version


def test_applying_the_same_file_twice_changes_nothing(
    database_url, tmp_path, make_tenant, session_factory, capsys
):
    from fsctl.config import Settings

    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(tenant_doc(), allow_unicode=True), encoding="utf-8")
    settings = Settings(database_url=database_url)
    assert apply_file(settings, str(path)) == 0
    with db.session_scope(session_factory) as session:
        version = tenant(session).config_version
    assert apply_file(settings, str(path)) == 0
    assert capsys.readouterr().out.splitlines() == ["acme.kumo.test: created", "acme.kumo.test: unchanged"]
    with db.session_scope(session_factory) as session:
        assert tenant(session).config_version == version
        assert session.scalar(select(func.count()).select_from(models.AuditEntry)) == 1


def test_bad_file_lists_every_error_by_path_and_changes_nothing(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    doc["users"] = doc["users"] + [
        {"extension": "101", "name": "dup", "password": "Another-pass-1"},
        {"extension": "01", "name": "bad", "password": "short"},
    ]
    doc["ring_groups"] = [{"name": "reception", "members": ["101", "999"]}]
    doc["numbers"] = [{"number": "0312345678", "destination": {"ring_group": "nowhere"}}]
    doc["timezone"] = "Mars/Olympus"
    with pytest.raises(ConfigError) as raised, db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    errors = [str(error) for error in raised.value.errors]
    assert "timezone: unknown timezone 'Mars/Olympus'" in errors
    assert any(e.startswith("users[3].extension: must be 2 to 6 digits") for e in errors)
    assert any(e.startswith("users[3].password: must be 10 to 128 characters") for e in errors)
    with pytest.raises(ConfigError) as raised, db.session_scope(session_factory) as session:
        tenant_file().apply(session, {**doc, "timezone": "Asia/Tokyo", "users": doc["users"][:3]})
    errors = [str(error) for error in raised.value.errors]
    assert "users[2].extension: already used by users[0]" in errors
    assert "ring_groups[0].members[1]: no user with extension 999" in errors
    assert "numbers[0].destination.ring_group: 'nowhere' does not exist in this file" in errors
    with db.session_scope(session_factory) as session:
        assert [u.extension for u in tenant(session).users] == ["101", "102"]


def test_cli_apply_prints_errors_and_exits_1(database_url, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("domain: Not A Domain\nname: x\nusers: [{extension: '12'}]\n", encoding="utf-8")
    assert main(["--database-url", database_url, "apply", str(path)]) == 1
    err = capsys.readouterr().err
    assert "refused, nothing was changed" in err
    assert "domain: must be a lower-case DNS name" in err
    assert "users[0].name: Missing data for required field." in err
    assert "users[0].password: required for a new user" not in err  # schema errors stop before the database


def test_new_user_without_password_is_refused(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    doc["users"] = doc["users"] + [{"extension": "103", "name": "鈴木"}]
    with pytest.raises(ConfigError) as raised, db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    assert list(map(str, raised.value.errors)) == ["users[2].password: required for a new user"]


def test_existing_user_keeps_its_credentials_when_the_file_has_no_password(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    for user in doc["users"]:
        del user["password"]
    doc["users"][0]["name"] = "山田 太郎 (営業)"
    with db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, doc).changed
    with db.session_scope(session_factory) as session:
        yamada = tenant(session).users[0]
        assert yamada.name == "山田 太郎 (営業)"
        assert yamada.a1_hash == hashlib.md5(b"101:acme.kumo.test:Str0ng-101-pass").hexdigest()


def test_a_number_of_another_tenant_is_refused(session_factory, make_tenant):
    make_tenant()
    other = tenant_doc(
        domain="beta.kumo.test",
        users=[],
        ring_groups=[],
        park=None,
        numbers=[{"number": "+81312345678", "destination": {"hangup": True}}],
    )
    with pytest.raises(ConfigError) as raised, db.session_scope(session_factory) as session:
        tenant_file().apply(session, other)
    assert list(map(str, raised.value.errors)) == ["numbers[0].number: 0312345678 belongs to another tenant"]
    with db.session_scope(session_factory) as session:
        assert tenant(session, "beta.kumo.test") is None


def test_users_and_numbers_left_out_are_removed_and_released(session_factory, make_tenant):
    make_tenant()
    doc = tenant_doc()
    doc["users"] = [{k: v for k, v in doc["users"][0].items() if k != "did"}]
    doc["ring_groups"] = [{"name": "reception", "members": ["101"]}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    with db.session_scope(session_factory) as session:
        acme = tenant(session)
        assert [u.extension for u in acme.users] == ["101"]
        released = session.scalar(select(models.Number).where(models.Number.national == "0312345001"))
        assert released.tenant_id is None and released.destination_id is None


def test_schedules_menus_and_forwarding_round_trip(session_factory, make_tenant):
    doc = tenant_doc()
    doc["users"][0]["forward"] = {
        "busy": {"voicemail": "101"},
        "no_answer": {"external": "0901234567"},
        "no_answer_seconds": 15,
    }
    doc["users"][1]["schedule"] = "night"
    doc["schedules"] = [
        {
            "name": "business",
            "open": [{"days": ["mon", "tue"], "from": "09:00", "to": "18:00"}],
            "closures": [{"from": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}],
            "open_destination": {"ring_group": "reception"},
            "closed_destination": {"voicemail": "101"},
        },
        {"name": "night", "open": [{"days": ["fri"], "from": "22:00", "to": "06:00"}]},
    ]
    doc["ivr_menus"] = [
        {
            "name": "main",
            "options": {"1": {"ring_group": "reception"}, "2": {"user": "102"}},
            "timeout_destination": {"schedule": "business"},
        }
    ]
    doc["numbers"] = [{"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True}]
    make_tenant(**{k: doc[k] for k in ("users", "schedules", "ivr_menus", "numbers")})
    with db.session_scope(session_factory) as session:
        acme = tenant(session)
        night = next(s for s in acme.schedules if s.name == "night")
        assert [(p.weekday, p.start_minute, p.end_minute) for p in night.periods] == [(4, 1320, 1800)]
        exported = tenant_file().export(acme)
    assert exported["schedules"][1]["open"] == [{"days": ["fri"], "from": "22:00", "to": "06:00"}]
    assert exported["users"][0]["forward"]["no_answer"] == {"external": "0901234567"}
    assert exported["ivr_menus"][0]["options"] == {"1": {"ring_group": "reception"}, "2": {"user": "102"}}
    with db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, exported).changed is False


def test_database_constraints_hold_without_python(session_factory, make_tenant):
    make_tenant()
    with pytest.raises(IntegrityError), db.session_scope(session_factory) as session:
        acme = tenant(session)
        session.add(models.User(tenant_id=acme.id, extension="101", name="dup", a1_hash="0" * 32))
        session.flush()
    with pytest.raises(IntegrityError), db.session_scope(session_factory) as session:
        acme = tenant(session)
        session.add(models.Destination(tenant_id=acme.id, kind=models.DestinationKind.USER))
        session.flush()
    with pytest.raises(IntegrityError), db.session_scope(session_factory) as session:
        session.add(
            models.Number(
                national="0399999999",
                e164="+81399999999",
                kind=models.NumberKind.GEOGRAPHIC,
                destination_id=None,
                tenant_id=None,
            )
        )
        session.add(
            models.Number(national="0399999999", e164="+81399999998", kind=models.NumberKind.GEOGRAPHIC)
        )
        session.flush()


def test_config_version_bumps_on_every_change(session_factory, make_tenant):
    make_tenant()
    with db.session_scope(session_factory) as session:
        before = tenant(session).config_version
    with db.session_scope(session_factory) as session:
        group = tenant(session).ring_groups[0]
        group.members.pop()
    with db.session_scope(session_factory) as session:
        assert tenant(session).config_version > before


def test_numbers_add_range_is_idempotent(session_factory):
    assert add_numbers(session_factory, "0362800000-0362800099") == (100, 0)
    assert add_numbers(session_factory, "0362800090-0362800109") == (10, 10)
    with db.session_scope(session_factory) as session:
        toll_free = add_numbers(session_factory, "0120000001")
        assert toll_free == (1, 0)
        kinds = {n.national: n.kind for n in session.scalars(select(models.Number))}
    assert kinds["0362800000"] == models.NumberKind.GEOGRAPHIC


@pytest.mark.parametrize(
    "spec", ["0362800099-0362800000", "0901234567", "0570000000", "abc", "03628-0362800001"]
)
def test_numbers_add_refuses_bad_ranges(database_url, engine, spec, capsys):
    assert main(["--database-url", database_url, "numbers", "add", spec]) == 1
    assert "refused" in capsys.readouterr().err


def test_demo_file_applies(database_url, engine, capsys, tmp_path, monkeypatch):
    # seed-demo generates the demo SIP passwords into the instance folder: a private one here.
    monkeypatch.setenv("FSCTL_INSTANCE_DIR", str(tmp_path / "instance"))
    assert main(["--database-url", database_url, "seed-demo"]) == 0
    assert main(["--database-url", database_url, "seed-demo"]) == 0
    assert capsys.readouterr().out.splitlines() == ["demo.kumo.test: created", "demo.kumo.test: unchanged"]
    assert (REPO_ROOT / "dialplans" / "examples" / "demo.yaml").exists()


def test_the_readme_example_applies_and_round_trips(session_factory):
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    with db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, yaml.safe_load(example)).created
    with db.session_scope(session_factory) as session:
        exported = tenant_file().export(tenant(session))
    with db.session_scope(session_factory) as session:
        assert tenant_file().apply(session, exported).changed is False


def test_a_new_password_alone_is_a_change(database_url, tmp_path, make_tenant, session_factory, capsys):
    from fsctl.config import Settings

    make_tenant()
    doc = tenant_doc()
    doc["users"][0]["password"] = "Rotated-Secret-2026"
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert apply_file(Settings(database_url=database_url), str(path)) == 0
    assert capsys.readouterr().out.strip() == "acme.kumo.test: updated"
    with db.session_scope(session_factory) as session:
        yamada = tenant(session).users[0]
        assert yamada.a1_hash == hashlib.md5(b"101:acme.kumo.test:Rotated-Secret-2026").hexdigest()
