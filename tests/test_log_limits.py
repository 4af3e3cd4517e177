"""Repeated log lines are rate-limited."""

from __future__ import annotations

import logging

from test_directory import captured
from test_service import http, post, running_service, split_response

from fsctl.logutil import RepeatFilter


def _record(msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("fsctl.test", level, __file__, 1, msg, args, None)


def test_a_template_gets_a_burst_then_a_count():
    now = [0.0]
    limiter = RepeatFilter(burst=3, interval=60, clock=lambda: now[0])
    passed = [limiter.filter(_record("refused %s", n)) for n in range(100)]
    assert passed.count(True) == 3
    # Another problem is not hidden by the first one's flood.
    assert limiter.filter(_record("something else %s", 1))
    now[0] = 61.0
    later = _record("refused %s", 100)
    assert limiter.filter(later)
    assert later.getMessage() == "refused 100 [97 more like this suppressed in the last 60 s]"
    assert limiter.filter(_record("fatal", level=logging.CRITICAL))


def test_a_flood_of_refused_lookups_logs_a_few_lines(database_url, make_tenant):
    make_tenant()
    lookup = post("/fs/xml", captured("directory-sip_auth-register.txt"))
    with running_service(database_url, auth="freeswitch:right") as (port, process):
        for _ in range(60):
            assert split_response(http(port, lookup))[0] == 401
        process.terminate()
        log = process.communicate(timeout=10)[0].decode()
    refused = [line for line in log.splitlines() if "lookup refused" in line]
    assert 1 <= len(refused) <= 5, log
