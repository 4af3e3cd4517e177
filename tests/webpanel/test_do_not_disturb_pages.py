"""Do not disturb in the panel and the API, and the employee's own page (their numbers, the switch,
their phone settings), in Japanese and English; an employee never sees or changes another user."""

from __future__ import annotations

from panel_helpers import PASSWORD, PanelClient, tenant_of
from sqlalchemy import select
from test_api import api, make_token
from test_tenant_pages import EMAIL, add_user, document, shown_password, user_id

from fsctl import models
from fsctl.inventory import add_numbers
from webpanel.extensions import db


def _dnd(app, extension: str) -> bool:
    return next(u for u in document(app)["users"] if u["extension"] == extension)["do_not_disturb"]


def _version(app) -> int:
    with app.app_context():
        return db.session.get(models.Tenant, tenant_of(app, EMAIL).id).config_version


def _employee(app, admin, extension: str = "101", email: str = "taro@acme.example") -> PanelClient:
    admin.post(f"/users/{user_id(app, extension)}/login", {"email": email, "password": PASSWORD})
    person = PanelClient(app.test_client())
    assert person.login(email).status_code == 302
    return person


def test_admin_sets_and_clears_it_on_the_users_page(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    page = admin.get(f"/users/{uid}").get_data(as_text=True)
    assert 'name="do_not_disturb"' in page and "おやすみモード" in page
    before = _version(app)
    form = {"name": "山田 太郎", "direction": "both", "voicemail.enabled": "on", "do_not_disturb.shown": "1"}
    assert admin.post(f"/users/{uid}", {**form, "do_not_disturb": "on"}).status_code == 302
    assert _dnd(app, "101") is True and _version(app) > before
    assert 'name="do_not_disturb" checked' in admin.get(f"/users/{uid}").get_data(as_text=True)
    assert '<span class="badge warn">おやすみモード</span>' in admin.get("/users/").get_data(as_text=True)
    assert admin.post(f"/users/{uid}", form).status_code == 302
    assert _dnd(app, "101") is False
    admin.get("/lang/en")
    assert "Do not disturb: the phone does not ring" in admin.get(f"/users/{uid}").get_data(as_text=True)


def test_api_sets_and_clears_it_and_names_the_field(app, admin):
    add_user(admin, "101")
    token = make_token(admin)
    raw = app.test_client()
    url = "/api/v1/users/101/do-not-disturb"
    response = api(raw, "PUT", url, token, {"do_not_disturb": True})
    assert response.status_code == 200 and response.json["do_not_disturb"] is True
    assert _dnd(app, "101") is True
    assert api(raw, "GET", "/api/v1/users/101", token).json["do_not_disturb"] is True
    for body in ({"do_not_disturb": "yes"}, {}, {"do_not_disturb": 1}):
        response = api(raw, "PUT", url, token, body)
        assert response.status_code == 422
        assert response.json["errors"][0]["field"] == "do_not_disturb"
    response = api(raw, "PUT", url, token, {"do_not_disturb": False, "colour": "red"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "colour"
    assert _dnd(app, "101") is True  # nothing saved by a refused request
    response = api(raw, "PUT", "/api/v1/users/999/do-not-disturb", token, {"do_not_disturb": True})
    assert response.status_code == 404 and response.json["errors"][0]["field"] == "extension"
    assert api(raw, "PUT", url, token, {"do_not_disturb": False}).json["do_not_disturb"] is False
    # A PUT of the whole user without the key leaves it as it is.
    api(raw, "PUT", url, token, {"do_not_disturb": True})
    entry = api(raw, "GET", "/api/v1/users/101", token).json
    entry.pop("do_not_disturb")
    assert api(raw, "PUT", "/api/v1/users/101", token, entry).status_code == 200
    assert _dnd(app, "101") is True
    with app.app_context():
        actions = db.session.scalars(
            select(models.AuditEntry.action).where(models.AuditEntry.action == "user.do_not_disturb")
        ).all()
    assert len(actions) >= 3


def test_employee_page_shows_their_numbers_switch_and_phone_settings(app, admin):
    with app.app_context():
        add_numbers(db.session, "0312340000-0312340001")
        db.session.commit()
    admin.post("/numbers/claim", {"number": "0312340000"})
    add_user(admin, "101", did="0312340000")
    add_user(admin, "102", name="鈴木 花子", **{"voicemail.email": "hanako@acme.example"})
    person = _employee(app, admin)
    page = person.get("/users/me").get_data(as_text=True)
    assert 'id="my-numbers"' in page and "101" in page
    assert document(app)["users"][0]["did"] == "0312340000"
    assert "<dt>0312340000</dt><dd>あなたを直接鳴らします</dd>" in page
    assert 'id="dnd-state"' in page and "おやすみモードをオンにする" in page
    # Colleagues are forward targets (names in the pickers), but none of their settings is shown.
    assert "hanako@acme.example" not in page

    assert person.post("/users/me/do-not-disturb", {"on": "1"}).status_code == 302
    assert _dnd(app, "101") is True and _dnd(app, "102") is False
    page = person.get("/users/me").get_data(as_text=True)
    assert "おやすみモードをオフにする" in page
    # Saving the rest of the page keeps the switch as it is (the page has no checkbox for it).
    assert person.post("/users/me", {"voicemail.enabled": "on"}).status_code == 302
    assert _dnd(app, "101") is True
    person.get("/lang/en")
    page = person.get("/users/me").get_data(as_text=True)
    assert "Turn do not disturb off" in page and "dial *78 to turn it on" in page
    assert person.post("/users/me/do-not-disturb", {"on": "0"}).status_code == 302
    assert _dnd(app, "101") is False

    # Phone settings: a confirmation first, then a new password with its QR code, for 101 only.
    confirm = person.post("/users/me/credentials", {}).get_data(as_text=True)
    assert 'name="confirm"' in confirm
    with app.app_context():
        before = db.session.scalar(select(models.User.a1_hash).where(models.User.extension == "102"))
    shown = person.post("/users/me/credentials", {"confirm": "yes"}).get_data(as_text=True)
    assert "<svg" in shown and shown_password(shown)
    assert "Phone settings for 101" in shown and 'href="/users/me"' in shown
    with app.app_context():
        assert db.session.scalar(select(models.User.a1_hash).where(models.User.extension == "102")) == before


def test_an_employee_never_sees_or_changes_another_user(app, admin):
    add_user(admin, "101")
    add_user(admin, "102", name="鈴木 花子")
    other = user_id(app, "102")
    person = _employee(app, admin)
    assert person.get(f"/users/{other}").status_code == 403
    assert person.post(f"/users/{other}", {"name": "x", "do_not_disturb": "on"}).status_code == 403
    assert person.post(f"/users/{other}/credentials", {"confirm": "yes"}).status_code == 403
    assert person.get("/users/").status_code == 403
    # The employee's own switch takes no id: extra fields naming another user change nothing else.
    person.post("/users/me/do-not-disturb", {"on": "1", "user_id": str(other), "extension": "102"})
    assert _dnd(app, "102") is False and _dnd(app, "101") is True
    # An admin is not an employee: the employee's page and switch are not theirs.
    assert admin.post("/users/me/do-not-disturb", {"on": "1"}).status_code == 403


def test_what_if_explains_do_not_disturb_in_both_languages(app, admin):
    add_user(admin, "101")
    add_user(admin, "102")
    uid = user_id(app, "102")
    form = {"name": "山田 太郎", "direction": "both", "voicemail.enabled": "on", "do_not_disturb.shown": "1"}
    # Asked before the change: the page keeps the tenant's snapshot (webpanel.views.trace), and the
    # answer after the save below must still be the new one (the snapshot is keyed by config version).
    page = admin.get("/what-if/?from=101&to=102&day=2026-12-01&time=10:00").get_data(as_text=True)
    assert "おやすみモード中" not in page
    admin.post(f"/users/{uid}", {**form, "do_not_disturb": "on", "forward.busy": "user:101"})
    page = admin.get("/what-if/?from=101&to=102&day=2026-12-01&time=10:00").get_data(as_text=True)
    assert "102はおやすみモード中" in page
    admin.get("/lang/en")
    page = admin.get("/what-if/?from=101&to=102&day=2026-12-01&time=10:00").get_data(as_text=True)
    assert "102 is in do not disturb" in page
