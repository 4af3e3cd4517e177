"""`next` never leads off-site: one helper, used by sign-in and the language switch."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from panel_helpers import PASSWORD, PanelClient, signup

from webpanel.security import safe_next

OFF_SITE = [
    "//evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example/phish",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "data:text/html,x",
    "///evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "evil.example/phish",
    "/ok\x00",
    "/ok\x7f",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_anything_that_could_leave_the_site(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/users/", "/users/3?tab=voicemail", "/history/?since=2026-11-01#x", "/"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get(f"/lang/ja?next={quote(target, safe='')}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_with_the_reported_url(client):
    response = client.get("/lang/ja?next=/%09/evil.example/phish")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/lang/en?next=/%0A/evil").headers["Location"] == "/"
    assert client.get("/lang/en?next=/users/").headers["Location"] == "/users/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(app, target):
    client = PanelClient(app.test_client())
    signup(client, email="redirect@acme.example")
    client.post("/logout")
    response = client.post(
        f"/login?next={quote(target, safe='')}", {"email": "redirect@acme.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_follows_a_local_next(app):
    client = PanelClient(app.test_client())
    signup(client, email="local@acme.example")
    client.post("/logout")
    response = client.post("/login?next=/users/", {"email": "local@acme.example", "password": PASSWORD})
    assert response.headers["Location"] == "/users/"
