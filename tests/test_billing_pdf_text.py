"""Invoice PDFs: every tenant-controlled text is text, never reportlab markup, and nothing is fetched.

A company name `<b>Echo KK` stopped the monthly close for every tenant, and
`<img src="http://...">` made the server fetch that URL. One statement's failure never stops the others.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from billing_helpers import apply_on, billing_tenant
from billing_smtp import SmtpSink
from pypdf import PdfReader
from sqlalchemy import select

from fsctl import db, models
from fsctl.billing import invoices
from fsctl.billing.invoices import run_invoices
from fsctl.billing.panel import statement_pdf
from fsctl.billing.settings import BillingSettings
from fsctl.billing.statement import Month
from fsctl.mail import SmtpSettings

pytestmark = pytest.mark.system_package("ipafont")

NOV = Month(2026, 11)
D = dt.date


class CountingServer:
    """An HTTP server on 127.0.0.1 that answers a tiny PNG and counts every request it gets."""

    def __init__(self) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
        png, hits = buffer.getvalue(), []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def bsettings(tmp_path, smtp) -> BillingSettings:
    return BillingSettings(
        issuer_name="kumo <b>PBX",
        issuer_address="東京都 & <i>千代田区",
        registration_number="T1234567890123",
        out_dir=tmp_path / "invoices",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, sender="billing@kumo.example"),
    )


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def add_tenant(session_factory, domain: str, name: str) -> None:
    with session_factory() as session:
        n = session.query(models.Tenant).count()
    numbers = [{"number": f"031234567{n}", "destination": {"user": "1001"}}]
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(domain=domain, name=name, numbers=numbers))
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain))
        session.add(models.BillingAccount(tenant_id=tenant.id, email=f"keiri@{domain.split('.')[0]}.example"))


def test_markup_in_a_company_name_is_printed_as_text_and_stops_nobody(
    engine, session_factory, bsettings, smtp
):
    add_tenant(session_factory, "alpha.kumo.test", "Alpha KK")
    add_tenant(session_factory, "echo.kumo.test", "<b>Echo KK")
    add_tenant(session_factory, "zulu.kumo.test", "Zulu </para> & Co")
    run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
    assert len(run.pdfs) == 3 and not run.failed
    texts = {path.name: pdf_text(path.read_bytes()) for path in run.pdfs}
    assert any("<b>Echo KK 御中" in text for text in texts.values())
    assert any("Zulu </para> & Co 御中" in text for text in texts.values())
    assert all("kumo <b>PBX" in text and "<i>千代田区" in text for text in texts.values())
    assert len(smtp.messages) == 3
    # The tenant's own download from the panel renders the same statement.
    with session_factory() as session:
        row = session.scalar(
            select(models.Statement).join(models.Tenant).where(models.Tenant.domain == "echo.kumo.test")
        )
        pdf = statement_pdf(session, row.tenant_id, row.id, bsettings)
    assert "<b>Echo KK" in pdf_text(pdf)


def test_an_image_tag_in_a_name_is_never_fetched(engine, session_factory, bsettings, smtp):
    bsettings = bsettings.with_overrides(issuer_name="kumo", issuer_address="Tokyo")
    with CountingServer() as server:
        name = f'Evil <img src="http://127.0.0.1:{server.port}/x.png" width="40" height="40"/>'
        add_tenant(session_factory, "evil.kumo.test", name)
        run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
        with session_factory() as session:
            row = session.scalar(select(models.Statement))
            pdf = statement_pdf(session, row.tenant_id, row.id, bsettings)
    assert server.hits == []
    assert f"127.0.0.1:{server.port}/x.png" in pdf_text(run.pdfs[0].read_bytes())
    assert f"127.0.0.1:{server.port}/x.png" in pdf_text(pdf)


def test_one_statement_that_cannot_be_rendered_does_not_stop_the_others(
    engine, session_factory, bsettings, smtp, monkeypatch
):
    for domain in ("alpha.kumo.test", "bravo.kumo.test", "charlie.kumo.test"):
        add_tenant(session_factory, domain, domain.split(".")[0].title())
    real = invoices.render_invoice

    def flaky(doc: dict, font: str) -> bytes:
        if doc["tenant"]["domain"] == "bravo.kumo.test":
            raise ValueError("a bad day")
        return real(doc, font)

    monkeypatch.setattr(invoices, "render_invoice", flaky)
    run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
    assert len(run.pdfs) == 2 and [domain for domain, _ in run.failed] == ["bravo.kumo.test"]
    assert "bravo.kumo.test" in run.summary() and "a bad day" in run.summary()
    assert sorted(m.recipients[0] for m in smtp.messages) == ["keiri@alpha.example", "keiri@charlie.example"]
    # The CSV still has every statement (it is written from the stored documents, not the PDFs).
    assert run.csv_path.read_text(encoding="utf-8").count("bravo.kumo.test") >= 1
    # Once the cause is fixed, the next run writes and sends what was missing.
    monkeypatch.setattr(invoices, "render_invoice", real)
    again = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 2))
    assert len(again.pdfs) == 3 and not again.failed
    assert [m.recipients[0] for m in smtp.messages][-1] == "keiri@bravo.example"


def test_a_refused_e_mail_is_reported_and_the_others_are_sent(engine, session_factory, bsettings, smtp):
    for domain in ("alpha.kumo.test", "bravo.kumo.test", "charlie.kumo.test"):
        add_tenant(session_factory, domain, domain.split(".")[0].title())
    smtp.refuse.add("keiri@bravo.example")
    run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
    assert len(run.pdfs) == 3 and [domain for domain, _ in run.failed] == ["bravo.kumo.test"]
    assert sorted(m.recipients[0] for m in smtp.messages) == ["keiri@alpha.example", "keiri@charlie.example"]
    smtp.refuse.clear()
    again = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 2))
    assert not again.failed and [m.recipients[0] for m in smtp.messages][-1] == "keiri@bravo.example"
    assert len(smtp.messages) == 3
