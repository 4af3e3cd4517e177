"""A control character in a name that reaches the switch is refused with a clear field error.

The panel form, the API and `fsctl apply` all validate through fsctl.schemas.
"""

from __future__ import annotations

import json

import pytest
from panel_helpers import PanelClient, field_error, signup
from sqlalchemy import select
from test_api import api, make_token

from fsctl import models
from fsctl.cli import main
from webpanel.extensions import db

BAD_NAMES = ["Hanako\x07", "Line\nbreak", "Tab\there", "Esc\x1b[31m", "C1\x85", "Sep\u2028x", "Nul\x00"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_api_names_the_field(app, admin, name):
    token = make_token(admin)
    response = api(app.test_client(), "POST", "/api/v1/users", token, {"extension": "201", "name": name})
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "name", "message": "must not contain control characters (tab, line break, ...)"}
    ]
    with app.app_context():
        assert db.session.scalar(select(models.User)) is None


def test_the_panel_form_shows_it_on_the_field(app, admin):
    response = admin.post("/users/new", {"extension": "201", "name": "Hanako\x07"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "name") == "制御文字 (タブ・改行など) は使えません"
    admin.get("/lang/en")
    response = admin.post("/users/new", {"extension": "201", "name": "Hanako\x07"})
    assert field_error(response.get_data(as_text=True), "name").startswith("must not contain control")


def test_sign_up_refuses_it_on_the_company_field(app):
    client = PanelClient(app.test_client())
    response = signup(client, company="Acme\x1bTrading", email="ctl@acme.example")
    assert field_error(response.get_data(as_text=True), "company") == "制御文字 (タブ・改行など) は使えません"
    with app.app_context():
        assert db.session.scalar(select(models.Tenant)) is None


def test_fsctl_apply_refuses_the_file(database_url, tmp_path, capsys):
    doc = {
        "domain": "ctl.kumo.test",
        "name": "Control\rKK",
        "users": [{"extension": "101", "name": "Bob\x07", "password": "Str0ng-101-pass"}],
    }
    path = tmp_path / "ctl.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["--database-url", database_url, "apply", str(path)]) == 1
    err = capsys.readouterr().err
    assert "users[0].name: must not contain control characters" in err
    assert "name: must not contain control characters" in err


def test_ordinary_names_still_pass(app, admin):
    token = make_token(admin)
    for n, name in enumerate(["山田 太郎", "O'Brien & Co.", "Zoë <sales>"]):
        body = {"extension": f"20{n}", "name": name}
        assert api(app.test_client(), "POST", "/api/v1/users", token, body).status_code == 201
