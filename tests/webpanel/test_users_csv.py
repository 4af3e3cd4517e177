"""Users in bulk: CSV export, and an import previewed row by row before anything is saved."""

from __future__ import annotations

import csv
import html
import io
import re

from test_tenant_pages import add_user, document


def upload(admin, text: str, encoding: str = "utf-8", **extra):
    data = {"file": (io.BytesIO(text.encode(encoding)), "users.csv"), **extra}
    return admin.post("/users/import", data, content_type="multipart/form-data")


def test_import_previews_each_row_then_adds_them_with_a_credentials_sheet(app, admin):
    text = "内線番号,名前,通話\n201,営業 一郎,発着信\n202,営業 二郎,着信のみ\n"
    response = upload(admin, text)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "2 行すべて追加できます。" in page
    assert [u["extension"] for u in document(app)["users"]] == []  # a preview saves nothing
    done = admin.post("/users/import", {"csv_text": text, "confirm": "yes"})
    sheet = done.get_data(as_text=True)
    users = {u["extension"]: u for u in document(app)["users"]}
    assert set(users) == {"201", "202"} and users["202"]["direction"] == "inbound_only"
    assert len(re.findall(r'class="sip-password">[^<]{20,}<', sheet)) == 2  # shown once, on one sheet


def test_bad_rows_are_named_by_line_and_nothing_is_saved(app, admin):
    add_user(admin, "101")
    text = "extension,name\n201,OK\n101,Duplicate\n0123,Bad extension\n203,\n"
    response = upload(admin, text)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    summary = re.search(r'id="error-summary">(.*?)</div>', page, re.S).group(1)
    assert "3 行目" in summary and "ユーザー 101 (山田 太郎) がすでに使っています" in summary
    assert "4 行目" in summary and "0以外で始まる" in summary
    assert "5 行目" in summary and "2 行目" not in summary
    # Even a confirmed post of a bad file saves nothing.
    admin.post("/users/import", {"csv_text": text, "confirm": "yes"})
    assert [u["extension"] for u in document(app)["users"]] == ["101"]


def test_excel_shift_jis_and_a_wrong_header(app, admin):
    page = upload(admin, "内線番号,名前\n301,佐藤 花子\n", encoding="cp932").get_data(as_text=True)
    assert "佐藤 花子" in page and "1 行すべて追加できます。" in page
    wrong = upload(admin, "ext,who\n301,x\n")
    assert wrong.status_code == 422 and "1行目に列名" in wrong.get_data(as_text=True)


def test_export_opens_in_excel_and_reimports(app, admin):
    add_user(admin, "101")
    add_user(admin, "102", name="=cmd()")
    data = admin.get("/users/export.csv").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["内線番号", "名前", "通話"]
    assert rows[1] == ["101", "山田 太郎", "both"] and rows[2][1] == "'=cmd()"  # formula neutralised
