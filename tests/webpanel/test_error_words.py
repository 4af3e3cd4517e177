"""Refusals in the panel's words: no document paths, the object and field named, a link to fix it."""

from __future__ import annotations

import html
import re

import pytest
from panel_helpers import field_error
from sqlalchemy import select
from test_tenant_pages import add_user, user_id

from fsctl import models
from webpanel.extensions import db

# users[1], ring_groups[0].members[1], ivr_menus[0].options.2.user: developer words.
DOCUMENT_PATH = re.compile(r"\b(users|ring_groups|schedules|ivr_menus|numbers)\[\d+\]")


def group_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(models.RingGroup.id).where(models.RingGroup.name == name))


def _reception(admin) -> None:
    add_user(admin, "101")
    add_user(admin, "102", name="佐藤 花子")
    admin.post(
        "/ring-groups/new",
        {"name": "reception", "members": "101, 102", "strategy": "sequential", "ring_seconds": "20"},
    )


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("ja", "着信グループ reception の「メンバー」: 内線 102 のユーザーはいません"),
        ("en", "Ring group reception, Members: there is no user with extension 102"),
    ],
)
def test_a_refused_removal_names_the_object_and_links_to_it(app, admin, lang, sentence):
    _reception(admin)
    admin.get(f"/lang/{lang}")
    uid = user_id(app, "102")
    page = html.unescape(
        admin.post(f"/users/{uid}/delete", {"confirm": "yes"}, follow_redirects=True).get_data(as_text=True)
    )
    assert sentence in page
    assert f'href="/ring-groups/{group_id(app, "reception")}"' in page
    assert not DOCUMENT_PATH.search(page)


def test_a_duplicate_extension_names_the_other_user(app, admin):
    add_user(admin, "101", name="山田 太郎")
    response = add_user(admin, "101", name="二人目")
    assert response.status_code == 422
    shown = field_error(response.get_data(as_text=True), "extension")
    assert shown == "ユーザー 101 (山田 太郎) がすでに使っています"
