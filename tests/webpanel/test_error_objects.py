"""fsctl's refusals reach the panel and the API as FieldError objects: read by their path, code and params,
never by parsing their English text."""

from __future__ import annotations

from panel_helpers import tenant_of
from test_api import api, make_token

from fsctl.tenant_file import FieldError
from webpanel.tenantdoc import SaveRefused

DOCUMENT = {
    "users": [{"extension": "101", "name": "山田 太郎"}, {"extension": "102", "name": "佐藤 花子"}],
    "ring_groups": [],
    "schedules": [],
    "ivr_menus": [],
    "numbers": [],
}


def test_an_api_refusal_names_the_field_and_carries_code_and_params(app, admin):
    token = make_token(admin)
    raw = app.test_client()
    assert api(raw, "POST", "/api/v1/users", token, {"extension": "101", "name": "山田"}).status_code == 201
    response = api(raw, "POST", "/api/v1/users", token, {"extension": "101", "name": "二人目"})
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "field": "extension",
            "message": "already used by users[0]",
            "code": "duplicate",
            "params": {"other": "users[0]"},
        }
    ]
    response = api(raw, "POST", "/api/v1/ring-groups", token, {"name": "sales", "members": ["101", "999"]})
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "field": "members[1]",
            "message": "no user with extension 999",
            "code": "no_user",
            "params": {"extension": "999"},
        }
    ]


def test_a_form_error_is_built_from_the_object(app, admin):
    tenant_id = tenant_of(app, "admin@acme.example").id
    # The English text looks like a path and names other entries: it is never read when a code says more.
    missing = FieldError(
        ("users", 1, "forward", "busy", "user"), "ivr_menus[3].name: not read", "missing", {"name": "999"}
    )
    duplicate = FieldError(("users", 1, "extension"), "not read either", "duplicate", {"other": ("users", 0)})
    plain = FieldError(("users", 1, "voicemail", "pin"), "4 to 12 digits")
    elsewhere = FieldError(("users", 0, "name"), "users[1].extension: not a path to act on")
    refused = SaveRefused([missing, duplicate, plain, elsewhere], DOCUMENT, tenant_id)
    with app.test_request_context("/"):  # the panel's default language: Japanese
        assert refused.field_errors(("users", 1)) == {
            "forward.busy.user": "999 は存在しません (削除されたか、まだ追加されていません)",
            "extension": "ユーザー 101 (山田 太郎) がすでに使っています",
            "voicemail.pin": "4〜12桁の数字にしてください",
        }
        (other,) = refused.other_errors(("users", 1))
        # Placed by its path (users[0], name), its text kept as it is: nothing in it is taken for a path.
        assert other.text == "ユーザー 101 (山田 太郎) の「名前」: users[1].extension: not a path to act on"
        assert other.url is not None and other.url.startswith("/users")
