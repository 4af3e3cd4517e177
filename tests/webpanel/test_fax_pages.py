"""FAX to e-mail in the panel and the API: a number made a fax number (and back), the FAX page with the
tenant's clock, the PDF shown, downloaded and deleted, errors naming the field, the simulator's words in
both languages; another tenant's fax answers 404 on every route."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from panel_helpers import tenant_of
from sqlalchemy import select
from test_api import api, make_token
from test_ivr_page import NUMBER, claim
from test_tenant_pages import document
from test_trace_words import steps_text

from fsctl import models
from webpanel.extensions import db

EMAIL = "admin@acme.example"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _fax(app, tmp_path: Path, email: str = EMAIL, **fields) -> int:
    """A received fax of the tenant, its PDF on disk (as fsctl.fax.intake leaves it)."""
    pdf = tmp_path / f"fax-{len(list(tmp_path.glob('*.pdf')))}.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% a fax\n")
    with app.app_context():
        row = models.FaxMessage(
            tenant_id=tenant_of(app, email).id,
            call_uuid=f"uuid-{pdf.name}",
            number=NUMBER,
            sender="0355550101",
            pages=2,
            success=True,
            received_at=dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC),  # 18:30 in Tokyo
            pdf_path=str(pdf),
            mailed_to="soumu@acme.example",
            mailed_at=dt.datetime(2026, 12, 7, 9, 31, tzinfo=dt.UTC),
            **fields,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_number_becomes_a_fax_number_and_back(app, admin, session_factory):
    number_id = claim(app, admin, session_factory)
    saved = admin.post(
        f"/fax/numbers/{number_id}", {"fax": "on", "emails": "soumu@acme.example, boss@acme.example"}
    )
    assert saved.status_code == 302
    doc = document(app)
    assert doc["fax"] == [{"number": NUMBER, "emails": ["soumu@acme.example", "boss@acme.example"]}]
    assert next(n for n in doc["numbers"] if n["number"] == NUMBER)["destination"] is None
    assert "FAX（PDFでメール送信）" in _text(admin.get("/numbers/").get_data(as_text=True))
    edit = admin.get(f"/numbers/{number_id}").get_data(as_text=True)
    assert 'id="fax" checked' in edit and "boss@acme.example" in edit
    # The number's call flow says the fax receiver answers it, and whom it mails.
    assert "FAX: 保存してPDFでメール送信 soumu@acme.example, boss@acme.example" in _text(edit)
    # Choosing where the number rings makes it a telephone number again.
    admin.post(f"/numbers/{number_id}", {"destination": "hangup"})
    assert document(app)["fax"] == []
    admin.post(f"/fax/numbers/{number_id}", {"fax": "on", "emails": ""})
    admin.post(f"/fax/numbers/{number_id}", {"emails": "x@acme.example"})  # unticked: no longer a fax number
    assert document(app)["fax"] == []


def test_a_bad_address_is_refused_and_nothing_is_saved(app, admin, session_factory):
    number_id = claim(app, admin, session_factory)
    assert (
        admin.post(f"/fax/numbers/{number_id}", {"fax": "on", "emails": "not-an-address"}).status_code == 302
    )
    assert document(app)["fax"] == []
    page = admin.get(f"/numbers/{number_id}").get_data(as_text=True)
    assert '<p class="flash error">正しいメールアドレスを入力してください。</p>' in page


def test_the_fax_page_lists_views_downloads_and_deletes(app, admin, tmp_path):
    fax_id = _fax(app, tmp_path)
    failed = _fax(app, tmp_path, result_text="The call dropped prematurely")
    with app.app_context():
        row = db.session.get(models.FaxMessage, failed)
        row.success, row.pages, row.mailed_at, row.mail_error = False, 0, None, "SMTP is not configured"
        db.session.commit()
    page = _text(admin.get("/fax/").get_data(as_text=True))
    assert "2026/12/07 18:30" in page  # the tenant's clock (Asia/Tokyo)
    assert (
        "0355550101" in page and "受信失敗: The call dropped prematurely" in page and "メール未送信" in page
    )
    shown = admin.get(f"/fax/{fax_id}.pdf")
    assert shown.status_code == 200 and shown.mimetype == "application/pdf"
    assert (
        "inline" in shown.headers["Content-Disposition"]
        or "attachment" not in shown.headers["Content-Disposition"]
    )
    saved = admin.get(f"/fax/{fax_id}.pdf?download=1")
    assert "attachment" in saved.headers["Content-Disposition"]
    confirm = admin.post(f"/fax/{fax_id}/delete", {})
    assert confirm.status_code == 200 and "完全に削除" in _text(confirm.get_data(as_text=True))
    with app.app_context():
        pdf = Path(db.session.get(models.FaxMessage, fax_id).pdf_path)
    assert admin.post(f"/fax/{fax_id}/delete", {"confirm": "yes"}).status_code == 302
    assert not pdf.exists() and admin.get(f"/fax/{fax_id}.pdf").status_code == 404
    admin.get("/lang/en")
    english = _text(admin.get("/fax/").get_data(as_text=True))
    assert "Not received: The call dropped prematurely" in english and "Not mailed" in english


def test_the_api_sets_fax_numbers_and_serves_the_faxes(app, admin, session_factory, tmp_path):
    claim(app, admin, session_factory)
    token = make_token(admin)
    client = app.test_client()
    refused = api(client, "PUT", f"/api/v1/numbers/{NUMBER}/fax", token, {"emails": ["nope"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "emails[0]"
    assert api(client, "PUT", f"/api/v1/numbers/{NUMBER}/fax", token, {"emails": 3}).status_code == 422
    ok = api(client, "PUT", f"/api/v1/numbers/{NUMBER}/fax", token, {"emails": ["soumu@acme.example"]})
    assert ok.status_code == 200 and ok.json["fax"] == {"emails": ["soumu@acme.example"]}
    assert ok.json["destination"] is None
    assert api(client, "GET", f"/api/v1/numbers/{NUMBER}/fax", token).json["fax"]["emails"] == [
        "soumu@acme.example"
    ]
    fax_id = _fax(app, tmp_path)
    listed = api(client, "GET", "/api/v1/faxes", token).json
    assert [f["id"] for f in listed] == [fax_id] and listed[0]["pages"] == 2 and listed[0]["pdf"] is True
    assert api(client, "GET", f"/api/v1/faxes/{fax_id}", token).json["sender"] == "0355550101"
    pdf = api(client, "GET", f"/api/v1/faxes/{fax_id}/pdf", token)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert api(client, "DELETE", f"/api/v1/faxes/{fax_id}", token).status_code == 204
    assert api(client, "GET", f"/api/v1/faxes/{fax_id}", token).status_code == 404
    assert api(client, "DELETE", f"/api/v1/numbers/{NUMBER}/fax", token).status_code == 204
    assert document(app)["fax"] == []
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    assert {
        "/api/v1/faxes",
        "/api/v1/faxes/{fax_id}",
        "/api/v1/faxes/{fax_id}/pdf",
        "/api/v1/numbers/{national}/fax",
    } <= set(paths)


def test_another_tenants_fax_is_not_found_anywhere(app, admin, tmp_path):
    from panel_helpers import PanelClient, set_status, signup

    other = PanelClient(app.test_client())
    signup(other, company="Bravo", email="b@b.example")
    set_status(app, tenant_of(app, "b@b.example").domain, "active")
    victim = _fax(app, tmp_path, email="b@b.example")
    token = make_token(admin)
    client = app.test_client()
    assert api(client, "GET", "/api/v1/faxes", token).json == []
    for method, url in (
        ("GET", f"/api/v1/faxes/{victim}"),
        ("GET", f"/api/v1/faxes/{victim}/pdf"),
        ("DELETE", f"/api/v1/faxes/{victim}"),
    ):
        assert api(client, method, url, token).status_code == 404
    assert admin.get(f"/fax/{victim}.pdf").status_code == 404
    assert admin.post(f"/fax/{victim}/delete", {"confirm": "yes"}).status_code == 404
    assert "0355550101" not in admin.get("/fax/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(models.FaxMessage.id).where(models.FaxMessage.id == victim)) == victim


def test_the_simulator_names_a_fax_number_in_both_languages(app, admin, session_factory):
    number_id = claim(app, admin, session_factory)
    admin.post(f"/fax/numbers/{number_id}", {"fax": "on", "emails": "soumu@acme.example"})
    ja = steps_text(admin, "0398765432", NUMBER, "10:00")
    assert f"番号 {NUMBER} でFAXを受信" in ja and "PDFでメール送信" in ja
    admin.get("/lang/en")
    en = steps_text(admin, "0398765432", NUMBER, "10:00")
    assert f"Number {NUMBER} receives faxes" in en and "mailed as PDF" in en
