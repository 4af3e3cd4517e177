"""Mail the SMTP server did not take is sent again by the service: new voicemail messages and received
faxes of the last day, every few minutes, so an SMTP outage delays a customer's voicemail and fax
mails instead of losing them (the messages and faxes themselves are stored either way).

Several kumo instances may share one PostgreSQL database (a cluster): each round runs under a
PostgreSQL advisory lock, so only one instance mails at a time and nothing goes out twice. On SQLite
there is one service per database file and no lock is needed. A voicemail message is retried only
once its first mail (sent as the message is indexed) has had its chance (`settle`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from fsctl.db import make_session_factory
from fsctl.fax.intake import FaxFollower, fax_settings_from_env
from fsctl.media.settings import media_settings_from_env
from fsctl.media.vm_index import VoicemailEventHandler
from fsctl.periodic import PeriodicJob

log = logging.getLogger(__name__)

RETRY_SECONDS = 300.0
RETRY_WITHIN = dt.timedelta(days=1)
# A voicemail message's first mail goes out within seconds of the recording.
SETTLE = dt.timedelta(minutes=2)
# pg_try_advisory_lock's key for this job (any constant no other part of kumo uses).
ADVISORY_LOCK_KEY = 0x6B756D6F_6D61696C  # "kumomail"


class MailRetry:
    """`retry(now)` every `interval` seconds (a PeriodicJob): what failed is mailed again."""

    def __init__(
        self,
        engine: Engine,
        voicemail: VoicemailEventHandler,
        fax: FaxFollower,
        interval: float = RETRY_SECONDS,
        within: dt.timedelta = RETRY_WITHIN,
        settle: dt.timedelta = SETTLE,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.engine = engine
        self.voicemail = voicemail
        self.fax = fax
        self.within = within
        self.settle = settle
        self.clock = clock
        self._job = PeriodicJob("mail retry", interval, self.run)

    def run(self) -> tuple[int, int]:
        return self.retry(self.clock())

    def retry(self, now: dt.datetime) -> tuple[int, int]:
        """Voicemail e-mails and fax mails sent now, or (0, 0) when another instance is at it."""
        with self._alone() as alone:
            if not alone:
                return 0, 0
            voicemails = self.voicemail.mail_pending(now, self.within, self.settle)
            faxes = self.fax.mail_pending(now, self.within)
        if voicemails or faxes:
            log.info("mailed again: %d voicemail message(s), %d fax(es)", voicemails, faxes)
        return voicemails, faxes

    @contextmanager
    def _alone(self) -> Iterator[bool]:
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        # A session-level lock on a connection held for the round; released however the round ends.
        with self.engine.connect() as connection:
            held = bool(
                connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            )
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                connection.commit()

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()


def mail_retry(engine: Engine) -> MailRetry:
    """The service's retry job, with the settings from the environment (FSCTL_SMTP_*, storage)."""
    session_factory = make_session_factory(engine)
    return MailRetry(
        engine,
        VoicemailEventHandler(session_factory, media_settings_from_env()),
        FaxFollower(session_factory, fax_settings_from_env()),
    )
