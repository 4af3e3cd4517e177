"""The formal application as the brochure describes it: details in the panel, the printed form and
documents by post, a registered mail to prove the address, activation; each step mailed to the
customer, illegal steps refused, a send-back with a reason; and the operator's dashboard."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from billing_smtp import SmtpSink
from panel_helpers import PanelClient, field_error, make_operator, signup, tenant_of
from pypdf import PdfReader

from fsctl import models
from fsctl.media.settings import SmtpSettings
from webpanel.extensions import db

DETAILS = {
    "legal_name": "株式会社アクメ",
    "representative": "山田 太郎",
    "postal_code": "１００ー０００１",  # typed with a Japanese IME: full-width digits and a long vowel mark
    "address": "東京都千代田区千代田1-1",
    "phone": "03-1234-5678",
}


@pytest.fixture
def smtp(app):
    sink = SmtpSink().start()
    app.config["SMTP_SETTINGS"] = SmtpSettings(host="127.0.0.1", port=sink.port, sender="ops@kumo.example")
    yield sink
    sink.stop()


@pytest.fixture
def customer(app) -> PanelClient:
    panel = PanelClient(app.test_client())
    signup(panel)
    return panel


def _profile(app, tenant_id: int) -> models.TenantProfile:
    with app.app_context():
        profile = db.session.get(models.TenantProfile, tenant_id)
        db.session.expunge(profile)
        return profile


def _subjects(smtp: SmtpSink) -> list[str]:
    return [m.message["Subject"] for m in smtp.messages]


def test_every_wrong_field_is_named_at_once_and_nothing_is_sent(app, customer, smtp):
    response = customer.post("/application", {"legal_name": "", "postal_code": "12-34", "phone": "12345"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "legal_name") == "入力してください。"
    assert field_error(page, "representative") == "入力してください。"
    assert field_error(page, "postal_code") == "7桁の郵便番号を入力してください（例: 100-0001）。"
    assert field_error(page, "phone") == "10桁または11桁の電話番号を入力してください。"
    assert 'value="12-34"' in page  # what was typed stays
    tenant = tenant_of(app, "admin@acme.example")
    assert _profile(app, tenant.id).application_state == models.ApplicationState.NONE
    assert smtp.messages == []


def test_the_whole_way_from_application_to_activation(app, customer, smtp):
    tenant = tenant_of(app, "admin@acme.example")
    operator = PanelClient(app.test_client())
    operator.login(make_operator(app))
    assert customer.get("/application/form.pdf").status_code == 302  # nothing to print yet

    assert customer.post("/application", DETAILS).status_code == 302
    profile = _profile(app, tenant.id)
    assert profile.application_state == models.ApplicationState.WAITING_DOCUMENTS
    assert (profile.postal_code, profile.legal_name) == ("100-0001", "株式会社アクメ")
    assert _subjects(smtp) == ["【kumo】正式申し込みを受け付けました / Application received"]
    assert smtp.messages[0].recipients == ["admin@acme.example"]
    page = customer.get("/application").get_data(as_text=True)
    assert 'id="form-download"' in page and 'id="document-identity"' in page
    # Sending it twice changes nothing.
    assert customer.post("/application", DETAILS).status_code == 422

    # The printed form carries the details.
    response = customer.get("/application/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "株式会社アクメ" in text and "100-0001" in text and "利用申込書" in text

    # The operator's dashboard counts it; the link lists it.
    dashboard = operator.get("/operator/").get_data(as_text=True)
    assert 'id="waiting-waiting_documents"' in dashboard
    assert ">1</strong>" in dashboard.split('id="waiting-waiting_documents"')[1].split("</li>")[0]
    assert "Acme Trading" in operator.get("/operator/tenants?application=waiting_documents").get_data(
        as_text=True
    )
    assert "Acme Trading" not in operator.get("/operator/tenants?application=mail_sent").get_data(
        as_text=True
    )

    # Too early: no registered mail before the documents, no activation before the mail.
    operator.post(f"/operator/tenants/{tenant.id}/application/mail", {"mail_tracking": "123456789012"})
    operator.post(f"/operator/tenants/{tenant.id}/application/verify")
    assert _profile(app, tenant.id).application_state == models.ApplicationState.WAITING_DOCUMENTS

    # One document arrives, then the other.
    operator.post(f"/operator/tenants/{tenant.id}/application/documents", {"documents": ["form"]})
    assert _profile(app, tenant.id).application_state == models.ApplicationState.WAITING_DOCUMENTS
    assert "到着済み" in customer.get("/application").get_data(as_text=True)
    operator.post(f"/operator/tenants/{tenant.id}/application/documents", {"documents": ["form", "identity"]})
    assert _profile(app, tenant.id).application_state == models.ApplicationState.DOCUMENTS_RECEIVED
    assert len(smtp.messages) == 2 and "書類が到着しました" in _subjects(smtp)[1]

    response = operator.post(f"/operator/tenants/{tenant.id}/application/mail", {"mail_tracking": "x"})
    assert _profile(app, tenant.id).application_state == models.ApplicationState.DOCUMENTS_RECEIVED
    operator.post(f"/operator/tenants/{tenant.id}/application/mail", {"mail_tracking": "1234-5678-9012"})
    profile = _profile(app, tenant.id)
    assert (
        profile.application_state == models.ApplicationState.MAIL_SENT
        and profile.mail_tracking == "1234-5678-9012"
    )
    body = smtp.messages[2].message.get_body(("plain",)).get_content()
    assert "1234-5678-9012" in body and "転送不要の簡易書留" in body
    assert "1234-5678-9012" in customer.get("/application").get_data(as_text=True)

    operator.post(f"/operator/tenants/{tenant.id}/application/verify")
    profile = _profile(app, tenant.id)
    assert profile.application_state == models.ApplicationState.VERIFIED
    assert profile.verified_by == "ops@kumo.example"
    with app.app_context():
        assert db.session.get(models.Tenant, tenant.id).status == models.TenantStatus.ACTIVE
        actions = {e.action for e in db.session.query(models.AuditEntry).filter_by(tenant_id=tenant.id)}
    assert {
        "tenant.application",
        "tenant.application_documents",
        "tenant.application_mail",
        "tenant.verified",
    } <= actions
    assert "ご利用を開始いただけます" in _subjects(smtp)[3]
    assert "利用中" in customer.get("/").get_data(as_text=True)


def test_sent_back_with_a_reason_then_sent_again(app, customer, smtp):
    tenant = tenant_of(app, "admin@acme.example")
    operator = PanelClient(app.test_client())
    operator.login(make_operator(app))
    customer.post("/application", DETAILS)
    operator.post(f"/operator/tenants/{tenant.id}/application/return", {"reason": ""})
    assert _profile(app, tenant.id).application_state == models.ApplicationState.WAITING_DOCUMENTS
    operator.post(
        f"/operator/tenants/{tenant.id}/application/return",
        {"reason": "本人確認書類の写しが同封されていませんでした。"},
    )
    assert _profile(app, tenant.id).application_state == models.ApplicationState.RETURNED
    assert (
        "本人確認書類の写しが同封されていませんでした。"
        in smtp.messages[-1].message.get_body(("plain",)).get_content()
    )
    home = customer.get("/").get_data(as_text=True)
    assert "申し込みが差し戻されました：本人確認書類の写しが同封されていませんでした。" in home
    # The form is shown again with what was sent, and can be sent again.
    page = customer.get("/application").get_data(as_text=True)
    assert 'id="returned-reason"' in page and "東京都千代田区千代田1-1" in page
    assert customer.post("/application", dict(DETAILS, address="東京都千代田区丸の内1-1")).status_code == 302
    profile = _profile(app, tenant.id)
    assert profile.application_state == models.ApplicationState.WAITING_DOCUMENTS
    assert profile.returned_reason == "" and profile.address == "東京都千代田区丸の内1-1"


def test_a_customer_cannot_take_the_operators_steps(app, customer):
    tenant = tenant_of(app, "admin@acme.example")
    customer.post("/application", DETAILS)
    for step in ("documents", "mail", "verify", "return"):
        assert customer.post(f"/operator/tenants/{tenant.id}/application/{step}").status_code == 403
    assert _profile(app, tenant.id).application_state == models.ApplicationState.WAITING_DOCUMENTS


class _Health(BaseHTTPRequestHandler):
    payload = {"status": "ok", "database": "ok", "esl": "disconnected", "version": "9.9"}

    def do_GET(self):  # noqa: N802 - http.server's name
        body = json.dumps(self.payload).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def test_the_dashboard_shows_each_service_and_its_switch(app, operator):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        up = f"http://127.0.0.1:{server.server_address[1]}"
        # A port nobody listens on: the closed listener's.
        probe = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
        down = f"http://127.0.0.1:{probe.server_address[1]}"
        probe.server_close()
        app.config["WEBPANEL_SERVICE_URLS"] = f"{up}, {down}"
        page = operator.get("/operator/").get_data(as_text=True)
    finally:
        server.shutdown()
        server.server_close()
    assert 'id="health-database"' in page and "OK" in page
    rows = page.split('class="health-service"')[1:]
    assert (
        up in rows[0] and "データベース: ok" in rows[0] and "交換機: 未接続" in rows[0] and "9.9" in rows[0]
    )
    assert down in rows[1] and "応答なし" in rows[1]


def test_an_active_company_is_not_asked_to_apply(app, admin):
    page = admin.get("/application").get_data(as_text=True)
    assert 'id="application-not-needed"' in page and 'id="application-form"' not in page
    assert admin.post("/application", DETAILS).status_code == 302
    with app.app_context():
        states = {p.application_state for p in db.session.query(models.TenantProfile)}
    assert models.ApplicationState.WAITING_DOCUMENTS not in states
