"""Every CSV kumo writes neutralises cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from panel_helpers import tenant_of
from test_history_page import add_call

from fsctl.billing.invoices import write_csv
from fsctl.csv_safe import neutralise

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+81 3 1234", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_are_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["0312345678", "山田", "", "a=b", -500, 1234, None])
def test_other_cells_are_left_alone(value):
    assert neutralise(value) == value


def test_call_history_export(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    add_call(app, tenant.id, "evil-1", "101", "in", '=HYPERLINK("http://evil.example","call back")')
    add_call(app, tenant.id, "evil-2", "101", "in", "@cmd")
    text = admin.get("/history/calls.csv").get_data().decode("utf-8-sig")
    callers = sorted(row["発信者"] for row in csv.DictReader(io.StringIO(text)))
    assert callers == ['\'=HYPERLINK("http://evil.example","call back")', "'@cmd"]


def test_invoice_csv(tmp_path):
    statement = {
        "month": "2026-11",
        "invoice_number": "KUMO-202611-000001",
        "tenant": {"domain": "evil.kumo.test", "name": "=cmd|' /C calc'!A0"},
        "lines": [{"code": "one_off", "description": "+danger", "quantity": 1, "amount_yen": -500}],
        "subtotal_yen": -500,
        "tax_yen": 0,
        "total_yen": -500,
        "issued_on": dt.date(2026, 12, 1).isoformat(),
    }
    path = tmp_path / "statements.csv"
    write_csv(path, [statement])
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert {row["tenant"] for row in rows} == {"'=cmd|' /C calc'!A0"} and len(rows) == 4
    assert rows[0]["description"] == "'+danger" and rows[0]["amount_yen"] == "-500"


def test_no_csv_is_written_around_the_safe_writers():
    from kumo_support import REPO_ROOT

    offenders = [
        str(path.relative_to(REPO_ROOT))
        for package in ("fsctl", "webpanel")
        for path in (REPO_ROOT / package).rglob("*.py")
        if path.name != "csv_safe.py"
        and ("csv.writer(" in path.read_text() or "csv.DictWriter(" in path.read_text())
    ]
    assert offenders == []
