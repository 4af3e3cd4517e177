from __future__ import annotations

import argparse
import datetime as dt
import json

from fsctl.trace import add_trace_command, format_text, run_trace, trace

OFFICE = {
    "name": "office",
    "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
    "closures": [{"from": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}],
    "open_destination": {"ring_group": "reception"},
    "closed_destination": {"voicemail": "101"},
}


def test_trace_inbound_at_new_years_eve(make_tenant, session_factory):
    make_tenant(schedules=[OFFICE], numbers=[{"number": "0312345678", "destination": {"schedule": "office"}}])
    plan = trace(
        session_factory, "acme.kumo.test", "0901234567", "0312345678", dt.datetime(2026, 12, 31, 20, 0)
    )
    text = format_text(plan)
    assert "company closure '年末年始'" in text
    assert "voicemail default acme.kumo.test 101" in text
    assert plan.at.startswith("2026-12-31T20:00:00+09:00")


def test_trace_outbound_refusal_and_json(make_tenant, session_factory, settings, capsys):
    make_tenant()
    parser = argparse.ArgumentParser()
    add_trace_command(parser.add_subparsers())
    args = parser.parse_args(
        [
            "trace",
            "--domain",
            "acme.kumo.test",
            "--from",
            "101",
            "--to",
            "01012025550100",
            "--at",
            "2026-12-31 20:00",
            "--json",
        ]
    )
    assert run_trace(args, settings) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["refused_by"] == "international_disabled"
    assert data["actions"] == [{"app": "hangup", "data": "OUTGOING_CALL_BARRED"}]


def test_trace_unknown_domain(make_tenant, settings, capsys):
    parser = argparse.ArgumentParser()
    add_trace_command(parser.add_subparsers())
    args = parser.parse_args(["trace", "--domain", "nope.test", "--from", "101", "--to", "102"])
    assert run_trace(args, settings) == 2


def test_trace_a_caller_without_a_number_and_a_blocked_one(make_tenant, session_factory, settings, capsys):
    make_tenant(
        screening={
            "anonymous": {"users": {"101": ["withheld", "payphone"]}},
            "blocklist": [{"caller": "03123*"}],
        }
    )
    plan = trace(
        session_factory, "acme.kumo.test", "anonymous", "0312345001", dt.datetime(2026, 12, 1, 10, 0)
    )
    assert plan.refused_by == "anonymous_refused"
    assert "refused by anonymous_refused: caller withheld their number; user 101 refuses such calls" in (
        format_text(plan)
    )
    plan = trace(session_factory, "acme.kumo.test", "表示圏外", "0312345001", dt.datetime(2026, 12, 1, 10, 0))
    assert plan.refused_by is None  # unavailable was not chosen: it rings
    parser = argparse.ArgumentParser()
    add_trace_command(parser.add_subparsers())
    args = parser.parse_args(
        ["trace", "--domain", "acme.kumo.test", "--from", "0312345678", "--to", "0312345001"]
    )
    assert run_trace(args, settings) == 1
    assert "0312345678 is on the blocklist (prefix 03123)" in capsys.readouterr().out
