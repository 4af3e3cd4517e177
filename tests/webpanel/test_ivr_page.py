"""IVR menu pages: list, add, edit, delete through the tenant document; errors on the field, nothing saved."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.parse

import pytest
from lxml import etree
from panel_helpers import PASSWORD, PanelClient, field_error, set_status, signup, tenant_of
from sqlalchemy import select
from test_media_page import wav_bytes

from fsctl import models
from fsctl.inventory import add_numbers
from fsctl.media.settings import MediaSettings
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore
from webpanel.extensions import db

EMAIL = "admin@acme.example"
TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
NUMBER = "0312345000"


@pytest.fixture
def media(app, tmp_path) -> MediaSettings:
    settings = MediaSettings(audio_root=str(tmp_path / "audio"))
    app.config["MEDIA_SETTINGS"] = settings
    return settings


def document(app, email: str = EMAIL) -> dict:
    with app.app_context():
        return tenant_file().export(db.session.get(models.Tenant, tenant_of(app, email).id))


def menu_id(app, name: str, email: str = EMAIL) -> int | None:
    with app.app_context():
        tenant_id = tenant_of(app, email).id
        return db.session.scalar(
            select(models.IvrMenu.id).where(
                models.IvrMenu.tenant_id == tenant_id, models.IvrMenu.name == name
            )
        )


def with_users(admin: PanelClient, *extensions: str) -> None:
    for extension in extensions:
        admin.post(
            "/users/new", {"extension": extension, "name": f"内線{extension}", "voicemail.enabled": "on"}
        )


def menu_form(name: str = "main", **fields: str) -> dict:
    form = {
        "name": name,
        "greeting": "",
        "timeout_seconds": "5",
        "max_attempts": "3",
        "options.1": "user",
        "options.1.target": "101",
        "options.2": "voicemail",
        "options.2.target": "102",
        "timeout_destination": "voicemail",
        "timeout_destination.target": "101",
    }
    form.update(fields)
    return form


def claim(app, admin: PanelClient, session_factory, number: str = NUMBER) -> int:
    add_numbers(session_factory, f"{number}-{number}")
    with app.app_context():
        number_id = db.session.scalar(select(models.Number.id).where(models.Number.national == number))
    admin.post(f"/numbers/available/{number_id}/claim")
    return number_id


@pytest.mark.system_package("sox")
def test_admin_adds_a_menu_with_options_and_fallback(app, admin, media):
    with_users(admin, "101", "102")
    admin.post(
        "/voicemail/audio",
        {"name": "main-menu", "file": (io.BytesIO(wav_bytes()), "menu.wav")},
        content_type="multipart/form-data",
    )
    form = admin.get("/ivr-menus/new").get_data(as_text=True)
    # The greeting is the standard prompt or one of the tenant's uploads.
    assert '<option value="">標準の案内音声</option>' in form and 'value="main-menu.wav"' in form
    assert all(f'name="options.{digit}"' in form for digit in "0123456789*#")
    response = admin.post("/ivr-menus/new", menu_form(greeting="main-menu.wav", **{"options.#": "hangup"}))
    assert response.status_code == 302
    assert document(app)["ivr_menus"] == [
        {
            "name": "main",
            "greeting": "main-menu.wav",
            "timeout_seconds": 5,
            "max_attempts": 3,
            "options": {"#": {"hangup": True}, "1": {"user": "101"}, "2": {"voicemail": "102"}},
            "timeout_destination": {"voicemail": "101"},
        }
    ]
    listing = admin.get("/ivr-menus/").get_data(as_text=True)
    assert "1 → 内線 101" in listing and "2 → 102 の留守番電話" in listing and "# → 切断する" in listing
    assert "main-menu.wav" in listing and "3回まで、各5秒" in listing
    with app.app_context():
        entry = db.session.scalar(select(models.AuditEntry).where(models.AuditEntry.action == "ivr_menu.add"))
        assert entry.actor == f"panel:{EMAIL}" and json.loads(entry.detail)["summary"] == "main"


def test_the_edit_form_shows_the_saved_menu(app, admin, media):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form(greeting="kumo/custom.wav"))
    page = admin.get(f"/ivr-menus/{menu_id(app, 'main')}").get_data(as_text=True)
    # A greeting set outside the panel (a platform sound) stays selectable, and selected.
    assert '<option value="kumo/custom.wav" selected>' in page
    assert 'name="options.1.target" value="101"' in page and 'name="options.3.target" value=""' in page
    assert 'name="timeout_destination.target" value="101"' in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"timeout_seconds": "99"}, "timeout_seconds", "1〜60の範囲で入力してください。"),
        ({"timeout_seconds": "abc"}, "timeout_seconds", "整数を入力してください。"),
        ({"max_attempts": "0"}, "max_attempts", "1〜10の範囲で入力してください。"),
        ({"name": "メイン"}, "name", None),
        ({"options.3": "user", "options.3.target": "999"}, "options.3.user", None),
        ({"options.*": "external", "options.*.target": "abc"}, "options.*.value.external", None),
        ({"options.#": "ring_group", "options.#.target": "nope"}, "options.#.ring_group", None),
        (
            {"timeout_destination": "schedule", "timeout_destination.target": "x"},
            "timeout_destination.schedule",
            None,
        ),
    ],
)
def test_invalid_fields_are_shown_on_the_field_and_nothing_is_saved(app, admin, fields, field, message):
    with_users(admin, "101", "102")
    before = document(app)
    response = admin.post("/ivr-menus/new", menu_form(**fields))
    assert response.status_code == 422
    shown = field_error(response.get_data(as_text=True), field)
    assert shown is not None, response.get_data(as_text=True)
    if message:
        assert shown == message
    assert document(app) == before


def test_a_refused_edit_keeps_the_menu_and_the_typed_values(app, admin):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form())
    before = document(app)
    response = admin.post(
        f"/ivr-menus/{menu_id(app, 'main')}", menu_form(**{"options.5": "user", "options.5.target": "555"})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and field_error(html, "options.5.user")
    assert 'name="options.5.target" value="555"' in html
    assert document(app) == before


def test_renaming_a_menu_moves_every_reference_and_redirects_to_its_new_id(app, admin, session_factory):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form("main"))
    admin.post("/ivr-menus/new", menu_form("sub", **{"options.9": "ivr", "options.9.target": "main"}))
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "ivr", "destination.target": "main"})
    old_id = menu_id(app, "main")
    response = admin.post(f"/ivr-menus/{old_id}", menu_form("reception-menu"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ivr-menus/{menu_id(app, 'reception-menu')}")
    doc = document(app)
    assert [m["name"] for m in doc["ivr_menus"]] == ["reception-menu", "sub"]
    assert doc["ivr_menus"][1]["options"]["9"] == {"ivr": "reception-menu"}
    assert doc["numbers"][0]["destination"] == {"ivr": "reception-menu"}


def test_delete_refused_while_a_number_rings_the_menu(app, admin, session_factory):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form("main"))
    admin.post("/ivr-menus/new", menu_form("spare"))
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "ivr", "destination.target": "main"})
    refused = admin.post(f"/ivr-menus/{menu_id(app, 'main')}/delete", follow_redirects=True)
    page = refused.get_data(as_text=True)
    # Named as the panel names it, with the page that fixes it (not numbers[0].destination.ivr).
    assert "の「着信先」: main は存在しません" in page and 'href="/numbers/"' in page
    assert "numbers[0]" not in page
    assert menu_id(app, "main") is not None
    response = admin.post(f"/ivr-menus/{menu_id(app, 'spare')}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ivr-menus/")
    assert [m["name"] for m in document(app)["ivr_menus"]] == ["main"]


def test_the_list_names_the_numbers_leading_to_each_menu(app, admin, session_factory):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form("main"))
    admin.post("/ivr-menus/new", menu_form("after-hours"))
    admin.post(
        "/schedules/new",
        {
            "name": "business",
            "open-count": "1",
            "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
            "open-0-from": "09:00",
            "open-0-to": "18:00",
            "open_destination": "ivr",
            "open_destination.target": "main",
            "closed_destination": "ivr",
            "closed_destination.target": "after-hours",
        },
    )
    direct = claim(app, admin, session_factory, "0312345000")
    scheduled = claim(app, admin, session_factory, "0312345001")
    admin.post(f"/numbers/{direct}", {"destination": "ivr", "destination.target": "main"})
    admin.post(f"/numbers/{scheduled}", {"destination": "schedule", "destination.target": "business"})
    listing = admin.get("/ivr-menus/").get_data(as_text=True)
    main = listing[listing.index('id="ivr-main"') :]
    main = main[: main.index("</tr>")]
    after = listing[listing.index('id="ivr-after-hours"') :]
    after = after[: after.index("</tr>")]
    assert "0312345000" in main and "IVRオプションあり" in main
    # both numbers reach a menu, so both hold the paid option (fsctl.billing.ivr_option)
    assert "0312345001" in main and "スケジュール business 経由" in main and "IVRオプションなし" not in main
    assert "0312345001" in after and "0312345000" not in after
    assert "月額500円" in listing


def test_a_menu_made_in_the_panel_answers_the_next_call(
    app, admin, session_factory, engine, settings, fixtures_dir
):
    with_users(admin, "101", "102")
    number_id = claim(app, admin, session_factory)
    admin.post("/ivr-menus/new", menu_form("main", **{"options.#": "ring_group", "options.#.target": ""}))
    admin.post("/ivr-menus/new", menu_form("main", timeout_seconds="7"))
    admin.post(f"/numbers/{number_id}", {"destination": "ivr", "destination.target": "main"})
    store = LookupStore(engine=engine)
    responder = DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    body = (fixtures_dir / "xml_curl" / "dialplan-loopback-public-9196.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields["Hunt-Destination-Number"] = fields["Caller-Destination-Number"] = NUMBER

    def menu_digits() -> list[str]:
        root = etree.fromstring(responder.answer(fields))
        (pagd,) = [
            a.get("data") for a in root.iter("action") if a.get("application") == "play_and_get_digits"
        ]
        return pagd.split(" ")

    assert menu_digits()[:4] == ["1", "1", "3", "7000"] and menu_digits()[-1] == "^[12]$"
    admin.post(
        f"/ivr-menus/{menu_id(app, 'main')}",
        menu_form("main", **{"options.0": "user", "options.0.target": "102"}),
    )
    assert menu_digits()[3] == "5000" and menu_digits()[-1] == "^[012]$"
    store.reset()


def test_roles_csrf_and_other_tenants(app, admin):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form())
    own = menu_id(app, "main")
    # Anonymous: to the sign-in page.
    anonymous = PanelClient(app.test_client())
    assert anonymous.get("/ivr-menus/").status_code == 302
    assert "/login" in anonymous.get(f"/ivr-menus/{own}").headers["Location"]
    # A tenant user (an extension's own sign-in): refused.
    with app.app_context():
        uid = db.session.scalar(select(models.User.id).where(models.User.extension == "101"))
    admin.post(f"/users/{uid}/login", {"email": "taro@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    person.login("taro@acme.example")
    for url in ("/ivr-menus/", "/ivr-menus/new", f"/ivr-menus/{own}"):
        assert person.get(url).status_code == 403
    for url in ("/ivr-menus/new", f"/ivr-menus/{own}", f"/ivr-menus/{own}/delete"):
        assert person.post(url, menu_form("pwned")).status_code == 403
    # No CSRF token: refused, nothing changed.
    before = document(app)
    raw = admin.client
    assert raw.post("/ivr-menus/new", data=menu_form("forged")).status_code == 400
    assert raw.post(f"/ivr-menus/{own}/delete", data={}).status_code == 400
    assert document(app) == before
    # Another tenant's administrator: 404 for this tenant's menu, and its own list is empty.
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    assert other.get(f"/ivr-menus/{own}").status_code == 404
    assert other.post(f"/ivr-menus/{own}", menu_form("pwned")).status_code == 404
    assert other.post(f"/ivr-menus/{own}/delete").status_code == 404
    assert 'id="ivr-main"' not in other.get("/ivr-menus/").get_data(as_text=True)
    assert document(app) == before
