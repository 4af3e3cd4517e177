"""The service's mail retry (fsctl.mail_retry): voicemail and fax mails the SMTP server did not take are
sent again every few minutes, by one instance at a time on PostgreSQL. What each retry sends is tested
beside its feature (tests/media/test_vm_voicemail.py, tests/fax/test_fax_intake.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from fsctl.mail_retry import ADVISORY_LOCK_KEY, RETRY_WITHIN, SETTLE, MailRetry
from fsctl.wiring import database_jobs

NOW = dt.datetime(2026, 12, 8, 3, 0, tzinfo=dt.UTC)


class Pending:
    """Stands in for VoicemailEventHandler / FaxFollower: counts what it was asked to mail."""

    def __init__(self, sends: int):
        self.sends = sends
        self.asked: list[tuple] = []

    def mail_pending(self, *args) -> int:
        self.asked.append(args)
        return self.sends


def test_a_round_retries_voicemail_with_settle_and_faxes_of_the_last_day(engine):
    voicemail, fax = Pending(2), Pending(1)
    assert MailRetry(engine, voicemail, fax).retry(NOW) == (2, 1)
    assert voicemail.asked == [(NOW, RETRY_WITHIN, SETTLE)]
    assert fax.asked == [(NOW, RETRY_WITHIN)]


def test_only_one_instance_mails_at_a_time_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's (one service per SQLite database)")
    voicemail, fax = Pending(1), Pending(1)
    retry = MailRetry(engine, voicemail, fax)
    with engine.connect() as other_instance:
        other_instance.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        assert retry.retry(NOW) == (0, 0)
        assert voicemail.asked == [] and fax.asked == []
        other_instance.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        other_instance.commit()
    assert retry.retry(NOW) == (1, 1)
    # the round let go of the lock: another instance takes it
    with engine.connect() as other_instance:
        assert other_instance.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        other_instance.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        other_instance.commit()


def test_a_failing_round_lets_go_of_the_lock(engine):
    class Broken(Pending):
        def mail_pending(self, *args) -> int:
            raise ConnectionRefusedError("SMTP down")

    retry = MailRetry(engine, Broken(0), Pending(0))
    with pytest.raises(ConnectionRefusedError):
        retry.retry(NOW)
    fine = Pending(1)
    assert MailRetry(engine, fine, Pending(0)).retry(NOW) == (1, 0)


def test_the_service_runs_the_retry(engine):
    assert any(isinstance(job, MailRetry) for job in database_jobs(engine))
