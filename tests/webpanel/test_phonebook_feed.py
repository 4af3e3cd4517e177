"""The company directory desk phones fetch (webpanel.views.phonebook_feed): a link per tenant made on the
phonebook page, shown once, replaced or turned off; its lists in Yealink's and Cisco's XML, with the
tenant's extensions and its contacts, and nothing of another tenant's."""

from __future__ import annotations

import re

from lxml import etree
from panel_helpers import PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db


def _make_link(admin) -> dict[str, str]:
    page = admin.post("/phonebook/feed").get_data(as_text=True)
    links = dict(re.findall(r'<code id="feed-(\w+)">([^<]+)</code>', page))
    assert set(links) == {"yealink", "cisco"}, page
    return links


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def _fill(admin) -> None:
    admin.post("/users/new", {"extension": "101", "name": "田中 一郎"})
    admin.post("/users/new", {"extension": "102", "name": "鈴木 花子"})
    admin.post(
        "/phonebook/new",
        {"name": "山田 太郎", "numbers": "03-9876-5432 090-1234-5678", "company": "アクメ商事 & Co <本社>"},
    )
    admin.post("/phonebook/new", {"name": "タクシー", "numbers": "0120-000-111"})


def test_desk_phones_fetch_extensions_and_contacts_in_both_dialects(app, admin):
    _fill(admin)
    page = admin.get("/phonebook/").get_data(as_text=True)
    assert 'id="feed-create"' in page and 'id="feed-delete"' not in page
    links = _make_link(admin)

    client = app.test_client()  # a desk phone: no session
    yealink = client.get(_path(links["yealink"]))
    assert yealink.status_code == 200 and yealink.mimetype == "text/xml"
    root = etree.fromstring(yealink.data)
    assert root.tag == "YealinkIPPhoneDirectory"
    entries = [(e.findtext("Name"), [t.text for t in e.findall("Telephone")]) for e in root]
    assert entries == [
        ("田中 一郎 (101)", ["101"]),
        ("鈴木 花子 (102)", ["102"]),
        ("タクシー", ["0120000111"]),
        ("アクメ商事 & Co <本社> 山田 太郎", ["0398765432", "09012345678"]),
    ]

    cisco = etree.fromstring(client.get(_path(links["cisco"])).data)
    assert cisco.tag == "CiscoIPPhoneDirectory"
    assert [(e.findtext("Name"), e.findtext("Telephone")) for e in cisco.findall("DirectoryEntry")][-2:] == [
        ("アクメ商事 & Co <本社> 山田 太郎", "0398765432"),
        ("アクメ商事 & Co <本社> 山田 太郎", "09012345678"),
    ]

    # The page says a link exists and that a phone fetched it (the token itself is not shown again).
    page = admin.get("/phonebook/").get_data(as_text=True)
    assert 'id="feed-delete"' in page and "まだどの電話機も取得していません。" not in page
    assert _path(links["yealink"]).split("/")[3] not in page


def test_a_new_link_ends_the_old_one_and_turning_it_off_ends_both(app, admin):
    first = _make_link(admin)
    second = _make_link(admin)
    client = app.test_client()
    assert client.get(_path(first["yealink"])).status_code == 404
    assert client.get(_path(second["yealink"])).status_code == 200
    with app.app_context():
        tenant = tenant_of(app, "admin@acme.example")
        stored = db.session.scalars(
            select(models.PhonebookFeed).where(models.PhonebookFeed.tenant_id == tenant.id)
        ).all()
        token = _path(second["yealink"]).split("/")[3]
        assert len(stored) == 1 and token not in stored[0].token_hash  # only its SHA-256 is kept
    admin.post("/phonebook/feed/delete")
    assert client.get(_path(second["yealink"])).status_code == 404
    assert client.get(_path(second["cisco"])).status_code == 404


def test_only_administrators_make_links_and_unknown_links_say_nothing(app, admin):
    client = app.test_client()
    assert client.get("/phonebook/feed/nothing-like-a-token/yealink.xml").status_code == 404
    links = _make_link(admin)
    assert client.get(_path(links["yealink"]).replace("yealink.xml", "other.xml")).status_code == 404
    anonymous = PanelClient(app.test_client())
    assert anonymous.post("/phonebook/feed").status_code in (302, 401, 403)
    assert client.get(_path(links["yealink"])).status_code == 200  # still the first link


def test_a_tenant_sees_only_its_own_directory_and_a_suspended_one_none(app, admin):
    _fill(admin)
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    other.post("/users/new", {"extension": "101", "name": "Beta 101"})
    theirs = _make_link(other)
    ours = _make_link(admin)
    client = app.test_client()
    body = client.get(_path(theirs["yealink"])).data.decode()
    assert "Beta 101" in body and "田中" not in body and "山田" not in body
    set_status(app, tenant_of(app, "admin@acme.example").domain, "suspended")
    assert client.get(_path(ours["yealink"])).status_code == 404
