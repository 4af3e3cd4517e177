"""Tenant administrator pages: every write goes through the tenant file and shows errors on the field."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from kumo_support import read_fixture
from lxml import etree
from panel_helpers import PASSWORD, PanelClient, field_error, tenant_of
from sqlalchemy import select

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore
from webpanel.extensions import db

EMAIL = "admin@acme.example"


def document(app) -> dict:
    with app.app_context():
        tenant = db.session.get(models.Tenant, tenant_of(app, EMAIL).id)
        return tenant_file().export(tenant)


def user_id(app, extension: str) -> int:
    with app.app_context():
        tenant_id = tenant_of(app, EMAIL).id
        return db.session.scalar(
            select(models.User.id).where(
                models.User.tenant_id == tenant_id, models.User.extension == extension
            )
        )


def add_user(admin: PanelClient, extension: str, name: str = "山田 太郎", **fields: str):
    data = {"extension": extension, "name": name, "direction": "both", "voicemail.enabled": "on"}
    data.update(fields)
    return admin.post("/users/new", data)


def shown_password(html: str) -> str:
    return re.search(r'id="sip-password">([^<]+)<', html).group(1)


def test_add_user_shows_credentials_once_and_stores_only_the_hash(app, admin):
    response = add_user(admin, "101")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    password = shown_password(html)
    assert len(password) >= 20 and not password.isdigit()
    domain = tenant_of(app, EMAIL).domain
    assert f"<code>{domain}</code>" in html and "<svg" in html  # phone settings and the QR code
    with app.app_context():
        user = db.session.get(models.User, user_id(app, "101"))
        assert user.a1_hash == hashlib.md5(f"101:{domain}:{password}".encode()).hexdigest()
        entry = db.session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "user.add"))
        assert entry.actor == f"panel:{EMAIL}" and password not in entry.detail
        assert json.loads(entry.detail)["summary"] == "extension 101"
    # The edit page never shows it again.
    assert password not in admin.get(f"/users/{user_id(app, '101')}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"extension": "0123"}, "extension", "0以外で始まる2〜6桁の数字にしてください"),
        ({"ring_seconds": "abc"}, "ring_seconds", "整数を入力してください。"),
        ({"ring_seconds": "2"}, "ring_seconds", "5〜300の範囲で入力してください。"),
        ({"voicemail.pin": "12"}, "voicemail.pin", "4〜12桁の数字にしてください"),
        ({"name": ""}, "name", "1〜100文字にしてください。"),
        ({"forward.always": "external", "forward.always.external": "abc"}, "forward.always.external", None),
        ({"forward.busy": "user:999"}, "forward.busy.user", None),
        ({"caller_id": "0399999999"}, "caller_id", None),
    ],
)
def test_invalid_user_fields_are_shown_on_the_field_and_nothing_changes(app, admin, fields, field, message):
    add_user(admin, "101")
    before = document(app)
    response = add_user(admin, fields.pop("extension", "102"), **fields)
    assert response.status_code == 422
    shown = field_error(response.get_data(as_text=True), field)
    assert shown is not None
    if message:
        assert shown == message
    assert document(app) == before


def test_duplicate_extension_is_refused_on_the_field(app, admin):
    add_user(admin, "101")
    response = add_user(admin, "101", name="二人目")
    assert response.status_code == 422
    assert "ユーザー 101" in field_error(response.get_data(as_text=True), "extension")


def test_edit_user_settings_take_effect_on_the_next_lookup(app, admin, engine, settings):
    add_user(admin, "101")
    add_user(admin, "102", name="佐藤 花子")
    uid = user_id(app, "101")
    domain = tenant_of(app, EMAIL).domain
    store = LookupStore(engine=engine)
    service = ServiceApp(settings, store)
    body = read_fixture("xml_curl/directory-sip_auth-register.txt").replace(b"acme.example", domain.encode())
    body = body.replace(b"&user=1001&", b"&user=101&")

    def lookup_vars() -> dict[str, str]:
        root = etree.fromstring(service.handle("POST", "/fs/xml", {}, body).body)
        return {v.get("name"): v.get("value") for v in root.iter("variable")}

    assert lookup_vars()["kumo_direction"] == "both"  # warms the service's cache
    response = admin.post(
        f"/users/{uid}",
        {
            "name": "山田 太郎",
            "direction": "outbound_only",
            "ring_seconds": "25",
            "voicemail.enabled": "on",
            "voicemail.pin": "4321",
            "voicemail.email": "yamada@acme.example",
            "forward.no_answer": "user:102",
            "forward.no_answer_seconds": "15",
        },
    )
    assert response.status_code == 302
    entry = document(app)["users"][0]
    assert entry["direction"] == "outbound_only" and entry["ring_seconds"] == 25
    assert entry["voicemail"]["pin"] == "4321"
    assert entry["forward"] == {"no_answer": {"user": "102"}, "no_answer_seconds": 15}
    # No reload: the very next lookup sees the change (config_version moved).
    assert lookup_vars()["kumo_direction"] == "outbound_only"
    store.reset()


def test_new_sip_password_replaces_the_hash(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    with app.app_context():
        before = db.session.get(models.User, uid).a1_hash
    html = admin.post(f"/users/{uid}/credentials", {"confirm": "yes"}).get_data(as_text=True)
    password = shown_password(html)
    with app.app_context():
        after = db.session.get(models.User, uid).a1_hash
    domain = tenant_of(app, EMAIL).domain
    assert after != before and after == hashlib.md5(f"101:{domain}:{password}".encode()).hexdigest()


def test_remove_user_refused_while_a_ring_group_needs_it(app, admin):
    add_user(admin, "101")
    add_user(admin, "102")
    admin.post(
        "/ring-groups/new",
        {"name": "reception", "members": "101, 102", "strategy": "sequential", "ring_seconds": "20"},
    )
    uid = user_id(app, "102")
    admin.post(f"/users/{uid}/delete", {"confirm": "yes"})
    assert [u["extension"] for u in document(app)["users"]] == ["101", "102"]
    page = admin.get(f"/users/{uid}").get_data(as_text=True)
    assert "着信グループ reception の「メンバー」" in page
    group_id = tenant_of(app, EMAIL)
    with app.app_context():
        group_id = db.session.scalar(select(models.RingGroup.id))
    admin.post(
        f"/ring-groups/{group_id}",
        {"name": "reception", "members": "101", "strategy": "sequential", "ring_seconds": "20"},
    )
    admin.post(f"/users/{uid}/delete", {"confirm": "yes"})
    assert [u["extension"] for u in document(app)["users"]] == ["101"]


def test_numbers_claim_assign_release(app, admin, session_factory):
    add_numbers(session_factory, "0312345000-0312345004")
    add_user(admin, "101")
    page = admin.get("/numbers/available").get_data(as_text=True)
    assert "0312345000" in page
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == "0312345001"))
    assert admin.post(f"/numbers/available/{number_id}/claim").status_code == 302
    assert document(app)["numbers"] == [{"number": "0312345001", "destination": None, "ivr_option": False}]
    # A number already taken cannot be claimed again (here: by the same path, now not free).
    admin.post(f"/numbers/available/{number_id}/claim")
    admin.post(f"/numbers/{number_id}", {"destination": "user:101"})
    assert document(app)["users"][0]["did"] == "0312345001"  # exported as the user's individual number
    admin.post(f"/numbers/{number_id}", {"destination": "external", "destination.external": "09012345678"})
    assert document(app)["numbers"][0]["destination"] == {"external": "09012345678"}
    # As a user's did and back: taking it off the user keeps it with the tenant.
    uid = user_id(app, "101")
    admin.post(
        f"/users/{uid}", {"name": "山田", "direction": "both", "did": "0312345001", "voicemail.enabled": "on"}
    )
    assert document(app)["users"][0]["did"] == "0312345001"
    admin.post(f"/users/{uid}", {"name": "山田", "direction": "both", "did": "", "voicemail.enabled": "on"})
    assert document(app)["numbers"] == [{"number": "0312345001", "destination": None, "ivr_option": False}]
    admin.post(f"/numbers/{number_id}/release", {"confirm": "yes"})
    assert document(app)["numbers"] == []
    with app.app_context():
        assert db.session.get(models.Number, number_id).tenant_id is None


def test_a_number_pointed_at_a_menu_holds_the_ivr_option_until_unticked(app, admin, session_factory):
    add_numbers(session_factory, "0312345000-0312345000")
    add_user(admin, "101")
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == "0312345000"))
    admin.post(f"/numbers/available/{number_id}/claim")
    assert admin.post("/ivr-menus/new", {"name": "main", "options.1": "user:101"}).status_code == 302
    admin.post(
        f"/numbers/{number_id}", {"destination": "ivr", "destination.target": "main"}
    )  # box not ticked
    assert document(app)["numbers"] == [
        {"number": "0312345000", "destination": {"ivr": "main"}, "ivr_option": True}
    ]
    page = admin.get(f"/numbers/{number_id}").get_data(as_text=True)
    assert 'name="ivr_option" checked' in page and "IVRオプション (月額500円)" in page
    admin.post(f"/numbers/{number_id}", {"destination": "user:101", "ivr_option": "on"})
    assert document(app)["numbers"][0]["ivr_option"] is True  # kept while the box stays ticked
    admin.post(f"/numbers/{number_id}", {"destination": "user:101"})
    assert document(app)["users"][0]["did"] == "0312345000"  # no option left: an ordinary individual number


def test_trial_tenants_cannot_claim_numbers(app, session_factory):
    from panel_helpers import signup

    add_numbers(session_factory, "0312345000")
    trial = PanelClient(app.test_client())
    signup(trial, email="trial@acme.example")
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id))
    trial.post(f"/numbers/available/{number_id}/claim")
    with app.app_context():
        assert db.session.get(models.Number, number_id).tenant_id is None


def test_ring_group_rename_follows_references_and_errors_show(app, admin, session_factory):
    add_numbers(session_factory, "0312345000")
    add_user(admin, "101")
    admin.post(
        "/ring-groups/new",
        {"name": "reception", "members": "101", "strategy": "simultaneous", "ring_seconds": "20"},
    )
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id))
        group_id = db.session.scalar(select(models.RingGroup.id))
    admin.post(f"/numbers/available/{number_id}/claim")
    admin.post(f"/numbers/{number_id}", {"destination": "ring_group:reception"})
    admin.post(
        f"/ring-groups/{group_id}",
        {"name": "front-desk", "members": "101", "strategy": "simultaneous", "ring_seconds": "20"},
    )
    assert document(app)["numbers"][0]["destination"] == {"ring_group": "front-desk"}
    listing = admin.get("/ring-groups/").get_data(as_text=True)
    assert "front-desk" in listing and "101" in listing and "reception" not in listing
    with app.app_context():
        group_id = db.session.scalar(select(models.RingGroup.id).where(models.RingGroup.name == "front-desk"))
    response = admin.post(
        f"/ring-groups/{group_id}", {"name": "front-desk", "members": "101 999", "ring_seconds": "20"}
    )
    assert response.status_code == 422
    assert "999" in field_error(response.get_data(as_text=True), "members[1]")
    response = admin.post(
        f"/ring-groups/{group_id}", {"name": "front desk!", "members": "101", "ring_seconds": "20"}
    )
    assert field_error(response.get_data(as_text=True), "name") == "英数字と _ . - で64文字以内にしてください"


def test_schedule_with_periods_closures_and_holidays(app, admin):
    add_user(admin, "101")
    page = admin.get("/schedules/new").get_data(as_text=True)
    assert "元日" in page or "成人の日" in page or "建国記念の日" in page  # jpholiday, in Japanese
    form = {
        "name": "business",
        "open-count": "3",
        "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
        "open-0-from": "09:00",
        "open-0-to": "18:00",
        "open-1-days": ["sat"],
        "open-1-from": "22:00",
        "open-1-to": "06:00",
        "holidays_closed": "on",
        "closures-count": "2",
        "closures-0-from": "2026-12-29",
        "closures-0-to": "2027-01-03",
        "closures-0-name": "年末年始",
        "open_destination": "user:101",
        "closed_destination": "voicemail:101",
    }
    assert admin.post("/schedules/new", form).status_code == 302
    schedule = document(app)["schedules"][0]
    assert schedule["open"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"},
        {"days": ["sat"], "from": "22:00", "to": "06:00"},
    ]
    assert schedule["closures"] == [{"from": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}]
    assert schedule["closed_destination"] == {"voicemail": "101"}
    with app.app_context():
        schedule_id = db.session.scalar(select(models.Schedule.id))
    bad = dict(form, **{"open-1-to": "25:00", "closures-0-to": "2026-12-01"})
    response = admin.post(f"/schedules/{schedule_id}", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "open[1].to") == "00:00〜24:00 の HH:MM 形式にしてください"
    assert field_error(html, "closures[0].to") == "開始より前に終わっています"
    assert document(app)["schedules"][0] == schedule


def test_settings_international_and_park(app, admin):
    admin.post("/settings", {"international_calls": "on", "park": "800-809"})
    doc = document(app)
    assert doc["international_calls"] is True and doc["park"] == {"slots": "800-809"}
    response = admin.post("/settings", {"park": "80-x"})
    assert field_error(response.get_data(as_text=True), "park.slots") == "700-719 のような範囲にしてください"
    assert document(app)["park"] == {"slots": "800-809"}


def test_settings_choose_what_callers_hear(app, admin):
    assert document(app)["language"] == "ja"  # Japanese companies: Japanese by default
    assert 'value="ja" selected' in admin.get("/settings").get_data(as_text=True)
    assert admin.post("/settings", {"language": "en"}).status_code == 302
    assert document(app)["language"] == "en"
    response = admin.post("/settings", {"language": "fr", "park": "800-809"})
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), "language")
    assert document(app)["language"] == "en" and document(app)["park"] is None  # nothing saved


def test_tenant_user_changes_only_their_own_settings(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    admin.post(f"/users/{uid}/login", {"email": "taro@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    person.login("taro@acme.example")
    response = person.post(
        "/users/me",
        {
            "voicemail.enabled": "on",
            "voicemail.pin": "2468",
            "name": "changed",
            "direction": "inbound_only",
            "recording": "on",
        },
    )
    assert response.status_code == 302
    entry = document(app)["users"][0]
    assert entry["voicemail"]["pin"] == "2468"
    assert (entry["name"], entry["direction"], entry["recording"]) == ("山田 太郎", "both", False)


def test_what_happens_if_shows_the_trace(app, admin):
    add_user(admin, "101")
    add_user(admin, "102")
    page = admin.get("/what-if/?from=101&to=102&day=2026-12-01&time=10:00").get_data(as_text=True)
    assert 'id="trace-result"' in page and "102" in page
    assert "2026/12/01 10:00 に 101 から 102 への通話" in page
    assert "bridge" in page
    page = admin.get("/what-if/?from=101&to=102&day=2026-13-01&time=10:00").get_data(as_text=True)
    assert 'class="flash error"' in page and "日付または時刻が正しくありません" in page
    assert "isoformat" not in page


def test_removing_an_extension_removes_its_panel_sign_in(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    admin.post(f"/users/{uid}/login", {"email": "taro@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    assert person.login("taro@acme.example").status_code == 302
    admin.post(f"/users/{uid}/delete", {"confirm": "yes"})
    with app.app_context():
        assert (
            db.session.scalar(
                select(models.PanelAccount).where(models.PanelAccount.email == "taro@acme.example")
            )
            is None
        )
    assert person.get("/users/me").status_code == 302  # signed out: the account is gone


def test_home_and_settings_show_the_outside_lines_in_use(app, admin):
    with app.app_context():
        tenant_id = tenant_of(app, EMAIL).id
        db.session.add_all(
            [
                models.LiveCall(uuid="a-leg", tenant_id=tenant_id, external=True, state="bridged"),
                models.LiveCall(uuid="b-leg", tenant_id=tenant_id, external=False, state="bridged"),
            ]
        )
        db.session.commit()
    home = admin.get("/").get_data(as_text=True)
    assert re.search(r'id="lines-in-use"[^>]*>現在 1 通話で使用中<', home)
    assert "現在 1 通話で使用中" in admin.get("/settings").get_data(as_text=True)


def test_saving_one_user_leaves_the_others_rows_as_they_were(app, admin):
    """A panel save applies only the entries it changed (tenantdoc._unchanged_users): the other users'
    rows, forwards included, are left as they are, and the document is exactly the change."""
    add_user(admin, "101")
    add_user(admin, "102", **{"forward.no_answer": "voicemail:102", "forward.busy": "user:101"})
    before = document(app)

    def forwards() -> dict[str, tuple]:
        with app.app_context():
            user = db.session.get(models.User, user_id(app, "102"))
            return {
                "no_answer": (user.forward_no_answer_id, user.forward_no_answer.kind.value),
                "busy": (user.forward_busy_id, user.forward_busy.user.extension),
            }

    kept = forwards()
    response = admin.post(
        f"/users/{user_id(app, '101')}",
        {"name": "佐藤 花子", "direction": "both", "voicemail.enabled": "on", "forward.busy": "user:102"},
    )
    assert response.status_code in (200, 302)
    after = document(app)
    assert forwards() == kept  # the same rows, still leading where they did
    changed = {u["extension"]: u for u in after["users"]}
    assert changed["101"]["name"] == "佐藤 花子" and changed["101"]["forward"]["busy"] == {"user": "102"}
    assert changed["102"] == {u["extension"]: u for u in before["users"]}["102"]
