"""`fsctl trace` shows which path a call takes through a customer gateway, and why."""

from __future__ import annotations

import argparse
import copy

from gw_helpers import gateway_doc

from fsctl import db
from fsctl.trace import add_trace_command, run_trace
from fsctl.wiring import tenant_file


def _trace(settings, capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_trace_command(parser.add_subparsers())
    status = run_trace(parser.parse_args(["trace", "--domain", "acme.kumo.test", *argv]), settings)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_trace_outbound_names_the_gateway_and_the_reason(session_factory, settings, capsys):
    doc = gateway_doc()
    doc["users"][1]["direction"] = "both"
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    status, out = _trace(settings, capsys, "--from", "101", "--to", "0312349999", "--at", "2026-12-01 10:00")
    assert status == 0
    assert "outbound route: the tenant's choice for 101: gateway 'honsha' (4 ch plan)" in out
    assert "out through gateway honsha to 0312349999" in out and "rated 0" in out
    assert "bridge user/honsha@acme.kumo.test" in out
    status, out = _trace(settings, capsys, "--from", "102", "--to", "0312349999", "--at", "2026-12-01 10:00")
    assert "outbound route: 102's own choice: the platform's carrier" in out
    assert "bridge sofia/gateway/carrier/+81312349999" in out


def test_trace_from_a_gateway_and_a_refused_number(session_factory, settings, capsys):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, copy.deepcopy(gateway_doc()))
    status, out = _trace(
        settings,
        capsys,
        "--gateway",
        "honsha",
        "--from",
        "0901112222",
        "--to",
        "0355550101",
        "--at",
        "2026-12-01 10:00",
    )
    assert status == 0 and "carried by honsha" in out and "at most 4 calls at once through honsha" in out
    status, out = _trace(
        settings, capsys, "--gateway", "honsha", "--from", "0901112222", "--to", "0666660100"
    )
    assert status == 1 and "REFUSED by rule not_carried" in out
    status, out = _trace(
        settings, capsys, "--gateway", "nagoya", "--from", "0901112222", "--to", "0666660100"
    )
    assert status == 2 and "no gateway named 'nagoya'" in out
