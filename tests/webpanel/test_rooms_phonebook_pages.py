"""The conference rooms and phonebook pages, their API and the simulator's words: what is saved is what
routing reads, errors name their field, both languages."""

from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import select
from test_api import api, make_token
from test_ivr_page import NUMBER, claim
from test_tenant_pages import add_user, document
from test_trace_words import steps_text

from fsctl import models
from webpanel.extensions import db


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _room(admin, number="800", **fields):
    data = {"number": number, "name": "大会議室", "pin": "4321", "max_members": "5", **fields}
    return admin.post("/conference-rooms/new", data)


def _contact(admin, name="株式会社アクメ商事", numbers="03-9876-5432 090-1234-5678", **fields):
    return admin.post("/phonebook/new", {"name": name, "numbers": numbers, "company": "アクメ商事", **fields})


def test_a_room_is_added_edited_and_removed(app, admin):
    page = admin.get("/conference-rooms/").get_data(as_text=True)
    assert "会議室はまだありません。" in page
    assert _room(admin).status_code == 302
    assert document(app)["conference_rooms"] == [
        {"number": "800", "name": "大会議室", "pin": "4321", "max_members": 5}
    ]
    listing = _text(admin.get("/conference-rooms/").get_data(as_text=True))
    assert "800 大会議室 あり 5" in listing
    assert (
        admin.post("/conference-rooms/800", {"number": "801", "pin": "", "max_members": "3"}).status_code
        == 302
    )
    assert document(app)["conference_rooms"] == [{"number": "801", "name": "", "pin": None, "max_members": 3}]
    assert admin.post("/conference-rooms/801/delete").status_code == 302
    assert document(app)["conference_rooms"] == []
    assert admin.get("/conference-rooms/801").status_code == 404


def test_a_bad_room_is_refused_on_its_field_in_both_languages(app, admin):
    add_user(admin, "101")
    response = _room(admin, number="101", pin="12")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-pin"' in page
    clash = _room(admin, number="101")
    assert clash.status_code == 422 and "101 はすでにユーザーの内線番号です" in _text(
        clash.get_data(as_text=True)
    )
    assert 'id="error-number"' in clash.get_data(as_text=True)
    admin.get("/lang/en")
    english = _text(_room(admin, number="101").get_data(as_text=True))
    assert "101 is already a user's extension" in english
    assert document(app)["conference_rooms"] == []


def test_the_simulator_explains_a_room_and_a_phonebook_caller(app, admin, session_factory):
    add_user(admin, "101")
    _room(admin)
    _contact(admin)
    ja = steps_text(admin, "101", "800", "10:00")
    assert "会議室 800 (大会議室)" in ja and "暗証番号を入力すると会議に参加します (最大 5 人)" in ja
    assert "800 は会議室" in ja and "conference" not in ja
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "user", "destination.target": "101"})
    caller = steps_text(admin, "0398765432", NUMBER, "10:00")
    assert "発信者 0398765432 は共有電話帳の「株式会社アクメ商事」" in caller
    assert "電話機に発信者名として表示されます" in caller
    admin.get("/lang/en")
    en = steps_text(admin, "101", "800", "10:00")
    assert "Conference room 800 (大会議室)" in en and "after entering its PIN; at most 5 people" in en
    assert "The caller 0398765432 is 株式会社アクメ商事 in your phonebook" in steps_text(
        admin, "0398765432", NUMBER, "10:00"
    )


def test_a_contact_is_added_found_edited_and_removed(app, admin):
    assert _contact(admin).status_code == 302
    assert _contact(admin, name="Bob", numbers="045-111-2222", company="Bob Ltd").status_code == 302
    book = document(app)["phonebook"]
    assert book[0]["numbers"] == ["0398765432", "09012345678"]  # national form
    found = _text(admin.get("/phonebook/?q=9876").get_data(as_text=True))
    assert "株式会社アクメ商事" in found and "Bob" not in found and "2 件中 1 件" in found
    assert "Bob" in _text(admin.get("/phonebook/?q=bob").get_data(as_text=True))
    with app.app_context():
        bob = db.session.scalar(select(models.PhonebookEntry.id).where(models.PhonebookEntry.name == "Bob"))
    assert admin.post(f"/phonebook/{bob}", {"name": "Bob Smith", "numbers": "0451112222"}).status_code == 302
    assert document(app)["phonebook"][1]["name"] == "Bob Smith"
    assert admin.post(f"/phonebook/{bob}/delete").status_code == 302
    assert [e["name"] for e in document(app)["phonebook"]] == ["株式会社アクメ商事"]


def test_a_number_in_two_contacts_or_not_a_number_is_refused_on_its_field(app, admin):
    _contact(admin)
    twice = _contact(admin, name="Other", numbers="0398765432")
    assert twice.status_code == 422
    assert "0398765432 はすでに別の連絡先にあります" in _text(twice.get_data(as_text=True))
    bad = _contact(admin, name="Bad", numbers="12345")
    assert bad.status_code == 422 and 'id="error-numbers' in bad.get_data(as_text=True)
    assert len(document(app)["phonebook"]) == 1


def _upload(admin, text: str, encoding: str = "utf-8"):
    data = {"file": (io.BytesIO(text.encode(encoding)), "phonebook.csv")}
    return admin.post("/phonebook/import", data, content_type="multipart/form-data")


def test_csv_import_previews_each_line_then_adds_and_export_reimports(app, admin):
    _contact(admin)
    text = "名前,電話番号,会社,メモ\n佐藤,03-1111-2222,佐藤商店,\n重複,0398765432,,\n番号なし,abc,,\n鈴木,090-2222-3333 0120-111-222,,VIP\n"
    response = _upload(admin, text, encoding="cp932")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    summary = re.search(r'id="error-summary">(.*?)</div>', page, re.S).group(1)
    assert "3 行目" in summary and "すでに別の連絡先にあります" in summary
    assert "4 行目" in summary and "2 行目" not in summary and "5 行目" not in summary
    assert len(document(app)["phonebook"]) == 1  # nothing saved
    good = "名前,電話番号,会社,メモ\n佐藤,03-1111-2222,佐藤商店,\n鈴木,090-2222-3333 0120-111-222,,VIP\n"
    preview = _upload(admin, good)
    assert preview.status_code == 200 and "2 行すべて追加できます。" in html.unescape(
        preview.get_data(as_text=True)
    )
    done = admin.post("/phonebook/import", {"csv_text": good, "confirm": "yes"})
    assert done.status_code == 302
    book = document(app)["phonebook"]
    assert [e["name"] for e in book] == ["株式会社アクメ商事", "佐藤", "鈴木"]
    assert book[2]["numbers"] == ["09022223333", "0120111222"] and book[2]["note"] == "VIP"
    data = admin.get("/phonebook/export.csv").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["名前", "電話番号", "会社", "メモ"]
    assert rows[3] == ["鈴木", "09022223333 0120111222", "", "VIP"]


def test_the_api_serves_rooms_and_the_phonebook_and_names_bad_fields(app, admin):
    token = make_token(admin)
    raw = app.test_client()
    created = api(raw, "POST", "/api/v1/conference-rooms", token, {"number": "800", "pin": "4321"})
    assert created.status_code == 201 and created.json["max_members"] == 10
    bad = api(raw, "POST", "/api/v1/conference-rooms", token, {"number": "801", "pin": "12"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "pin"
    assert api(raw, "GET", "/api/v1/conference-rooms/800", token).json["pin"] == "4321"
    assert api(raw, "DELETE", "/api/v1/conference-rooms/800", token).status_code == 204
    added = api(raw, "POST", "/api/v1/phonebook", token, {"name": "Acme", "numbers": ["+81398765432"]})
    assert added.status_code == 201 and added.json["numbers"] == ["0398765432"]
    twice = api(raw, "POST", "/api/v1/phonebook", token, {"name": "B", "numbers": ["0398765432"]})
    assert twice.status_code == 422
    assert twice.json["errors"][0] == {
        "field": "numbers[0]",
        "message": "0398765432 is already in another entry",
        "code": "phonebook_number_twice",
        "params": {"number": "0398765432", "other": "phonebook[0]"},
    }
    replaced = api(raw, "PUT", "/api/v1/phonebook", token, [{"name": "New", "numbers": ["0451112222"]}])
    assert replaced.status_code == 200 and [e["name"] for e in replaced.json] == ["New"]
    assert api(raw, "GET", "/api/v1/phonebook?q=new", token).json[0]["numbers"] == ["0451112222"]
    assert api(raw, "PUT", "/api/v1/phonebook", token, {"name": "x"}).status_code == 400
    spec = api(raw, "GET", "/api/openapi.json", token).json
    assert "/api/v1/conference-rooms" in spec["paths"] and "/api/v1/phonebook" in spec["paths"]


def test_a_number_pointed_at_a_rooms_number_is_saved(app, admin, session_factory):
    """The panel's destination picker has no room kind: an outside number naming the room reaches it."""
    _room(admin)
    number_id = claim(app, admin, session_factory)
    saved = admin.post(f"/numbers/{number_id}", {"destination": "external", "destination.target": "800"})
    assert saved.status_code == 302
    assert {"external": "800"} in [n["destination"] for n in document(app)["numbers"]]
    # 802 is no room and no extension: refused (flashed on the number's page), 800 stays.
    admin.post(f"/numbers/{number_id}", {"destination": "external", "destination.target": "802"})
    assert {"external": "800"} in [n["destination"] for n in document(app)["numbers"]]
