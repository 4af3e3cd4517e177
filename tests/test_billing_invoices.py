"""Closing a month: statements stored once, late calls to the next month, PDFs, e-mail, CSV, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from billing_helpers import apply_on, billing_tenant
from billing_smtp import SmtpSink
from cdr_helpers import synthetic_leg
from kumo_support import REPO_ROOT
from sqlalchemy import func, select

from fsctl import db, models
from fsctl.billing.close import BillingError
from fsctl.billing.invoices import run_invoices
from fsctl.billing.settings import BillingSettings
from fsctl.billing.statement import Month
from fsctl.billing.subscriptions import set_billing_account
from fsctl.cdr.parse import parse_json
from fsctl.cdr.store import CdrStore
from fsctl.mail import SmtpSettings
from fsctl.wiring import billable_items

NOV, DEC = Month(2026, 11), Month(2026, 12)
D = dt.date


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def bsettings(tmp_path, smtp) -> BillingSettings:
    return BillingSettings(
        issuer_name="kumo クラウドPBX 株式会社",
        issuer_address="東京都千代田区丸の内1-1-1",
        registration_number="T1234567890123",
        out_dir=tmp_path / "invoices",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, sender="billing@kumo.example"),
    )


@pytest.fixture
def acme(session_factory, engine):
    """acme.example (the lab's domain, users 1001.. so synthetic CDRs match) active since October."""
    from cdr_helpers import lab_tenant

    apply_on(session_factory, D(2026, 10, 1), lab_tenant())
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == "acme.example"))
        set_billing_account(session, tenant, email="keiri@acme.example", billable=billable_items())
    return CdrStore(engine, session_factory)


def call(store: CdrStore, n: int, dialled: str, billsec: int, start: str) -> None:
    store.store(
        parse_json(synthetic_leg(f"00000000-0000-4000-9000-{n:012d}", dialled, billsec=billsec, start=start)),
        "http",
    )


@pytest.mark.system_package("ipafont")
def test_close_issue_and_close_again(acme, engine, session_factory, bsettings, smtp):
    call(acme, 1, "09012345678", 61, "2026-11-10 01:00:00")  # 32 yen
    call(acme, 2, "0612345679", 200, "2026-11-30 14:59:00")  # Nov 30 23:59 JST: 16 yen
    call(acme, 3, "0612345679", 10, "2026-11-30 15:00:30")  # Dec 1 JST: December
    run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
    assert run.closed and len(run.statements) == 1
    doc = run.statements[0]
    amounts = {line["code"]: line["amount_yen"] for line in doc["lines"]}
    # 2 users (980 each), one 03 number, calls 32 + 16.
    assert amounts == {"base_fee": 1960, "number_geographic": 100, "calls_fixed": 16, "calls_mobile": 32}
    assert (doc["subtotal_yen"], doc["tax_yen"], doc["total_yen"]) == (2108, 210, 2318)
    assert doc["issuer"]["registration_number"] == "T1234567890123"
    assert doc["invoice_number"].startswith("KUMO-202611-")
    # The PDF embeds the TrueType font; one e-mail to the billing address with it attached.
    pdf = run.pdfs[0].read_bytes()
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received.recipients == ["keiri@acme.example"]
    assert "2026年11月分" in received.message["Subject"]
    attachment = next(received.message.iter_attachments())
    assert attachment.get_content() == pdf
    rows = list(csv.DictReader(run.csv_path.open(encoding="utf-8")))
    assert {r["code"]: r["amount_yen"] for r in rows}["total"] == "2318"
    # Closing again: the same statement, the same PDF bytes, no second e-mail.
    again = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 2))
    assert [s["total_yen"] for s in again.statements] == [2318]
    assert again.pdfs[0].read_bytes() == pdf
    assert len(smtp.messages) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(models.Statement)) == 1
        billed = dict(session.execute(select(models.CallRecord.uuid, models.CallRecord.billed_month)).all())
    assert sorted(billed.values(), key=str) == ["2026-11", "2026-11", None]


@pytest.mark.system_package("ipafont")
def test_late_calls_go_to_the_next_statement(acme, engine, session_factory, bsettings, smtp):
    call(acme, 1, "09012345678", 61, "2026-11-10 01:00:00")
    run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1), send_email=False)
    # A November call whose record arrives after the close (e.g. imported from the spool).
    call(acme, 2, "09012345678", 120, "2026-11-20 03:00:00")
    nov = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 3), send_email=False)
    assert {line["code"]: line["amount_yen"] for line in nov.statements[0]["lines"]}["calls_mobile"] == 32
    dec = run_invoices(engine, session_factory, DEC, bsettings, preview_only=True, today=D(2026, 12, 3))
    lines = {line["code"]: line for line in dec.statements[0]["lines"]}
    assert lines["calls_mobile_late"]["amount_yen"] == 32
    assert "遅延計上" in lines["calls_mobile_late"]["description"]
    closed = run_invoices(engine, session_factory, DEC, bsettings, today=D(2027, 1, 1), send_email=False)
    assert {line["code"]: line["amount_yen"] for line in closed.statements[0]["lines"]}[
        "calls_mobile_late"
    ] == 32


def test_open_month_is_not_closed_and_issuer_is_required(acme, engine, session_factory, bsettings):
    with pytest.raises(BillingError, match="not over"):
        run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 11, 30))
    with pytest.raises(BillingError, match="T followed by 13 digits"):
        run_invoices(
            engine,
            session_factory,
            NOV,
            bsettings.with_overrides(registration_number="1234"),
            today=D(2026, 12, 1),
        )
    preview = run_invoices(engine, session_factory, NOV, bsettings, preview_only=True, today=D(2026, 11, 25))
    assert preview.statements[0]["subtotal_yen"] == 2060 and not preview.closed
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(models.Statement)) == 0


def test_cli_preview_and_close_as_json(acme, database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSCTL_")}
    env.update(
        DATABASE_URL=database_url,
        FSCTL_INVOICE_REGISTRATION_NUMBER="T1234567890123",
        FSCTL_INVOICE_DIR=str(tmp_path / "out"),
    )
    fsctl = [sys.executable, "-m", "fsctl.cli"]
    preview = subprocess.run(
        [*fsctl, "invoices", "--month", "2026-11", "--preview", "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert preview.returncode == 0, preview.stderr
    data = json.loads(preview.stdout)
    assert data["closed"] is False and data["statements"][0]["subtotal_yen"] == 2060
    closed = subprocess.run(
        [*fsctl, "invoices", "--month", "2026-10", "--no-email"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 0, closed.stderr
    assert "2026-10 closed: 1 statements" in closed.stdout and "total ¥2,266" in closed.stdout
    assert (tmp_path / "out" / "2026-10" / "statements-2026-10.csv").exists()


@pytest.mark.system_package("ipafont")
def test_sign_up_address_is_used_without_a_billing_address(session_factory, engine, bsettings, smtp):
    apply_on(session_factory, D(2026, 10, 1), billing_tenant(domain="beta.example"))
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant))
        session.add(
            models.TenantProfile(
                tenant_id=tenant.id, contact_name="担当", phone="0312345678", email="contact@beta.example"
            )
        )
    run = run_invoices(engine, session_factory, NOV, bsettings, today=D(2026, 12, 1))
    assert run.emailed and [m.recipients for m in smtp.messages] == [["contact@beta.example"]]
    assert run.statements[0]["total_yen"] == 5500  # brochure example 1 with 10 % tax
