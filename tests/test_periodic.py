"""fsctl.periodic: the one loop of the service's periodic work."""

from __future__ import annotations

import logging

import gevent

from fsctl.periodic import PeriodicJob


def test_a_failing_round_is_logged_and_the_job_goes_on(caplog):
    rounds: list[int] = []

    def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OSError("database restarting")

    job = PeriodicJob("test job", 0.01, work)
    with caplog.at_level(logging.ERROR, logger="fsctl.periodic"):
        job.start()
        while len(rounds) < 3:
            gevent.sleep(0.01)
        job.stop()
    assert not job.running and len(rounds) >= 3
    assert "test job failed" in caplog.text and "database restarting" in caplog.text


def test_a_quiet_job_logs_failures_at_debug_level(caplog):
    job = PeriodicJob("flush", 60, lambda: 1 / 0, quiet=True)
    with caplog.at_level(logging.DEBUG, logger="fsctl.periodic"):
        assert job.run_once() is False
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert PeriodicJob("ok", 60, lambda: None).run_once() is True


def test_stop_ends_the_loop_even_after_a_second_start():
    rounds: list[int] = []
    job = PeriodicJob("count", 0.01, lambda: rounds.append(1))
    job.start()
    job.start()
    gevent.sleep(0.05)
    job.stop()
    seen = len(rounds)
    gevent.sleep(0.05)
    assert len(rounds) == seen and not job.running
