"""Spend anomaly alerts: a tenant's outbound charges in the last 5 minutes above its cap or far above usual.

Charges come from the call records as they arrive (fsctl.cdr): a rated leg's `charge_yen`, or, while not
rated yet, the billing engineer's own rule `fsctl.billing.rating.rate_call` with the price list
(dialplans/prices.yaml); nothing here writes to the call records. A charge counts in the window of the
moment the call ended (a call's charge is known at hang-up; a record imported late from the spool
counts in its own past window, so an outage does not raise a false alarm when the spool is read).

The watcher reads only records it has not seen (by increasing id, the primary key), keeps the last window
in memory, and asks the database for a tenant's usual spend (its average per window over the last days,
on the (tenant_id, started_at) index) only when that tenant's window is above the floor. An alert is a
`security_events` row unique per (tenant, window bucket), so two kumo instances alert once; it mails the
tenant and the operator and, when the operator asked for it, suspends the tenant's external calls.
Charges of calls that ended before the tenant's external calls were last resumed do not count again: an
administrator who resumes after a suspension is not suspended anew by the same calls when the next
window starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.billing.prices import PriceList, default_prices
from fsctl.billing.rating import rate_call
from fsctl.db import make_session_factory
from fsctl.mail import send
from fsctl.security.settings import SecuritySettings
from fsctl.security.tenant_limits import set_external_suspended

log = logging.getLogger(__name__)

# How far back the first pass looks for records still inside the window (ids, newest first).
BACKFILL_ROWS = 50_000
FETCH_BATCH = 20_000


# The alert's reason, stored as the detail of its events and mailed; `spend_figures` reads it back.
CAP_REASON = "{yen} yen of outbound calls in {minutes} minutes, above the cap of {cap} yen"
USUAL_REASON = (
    "{yen} yen of outbound calls in {minutes} minutes, more than {factor}x"
    " the usual {usual:.0f} yen (average over {days} days)"
)
_REASON_RE = re.compile(
    r"(?P<yen>\d+) yen of outbound calls in (?P<minutes>\d+) minutes, (?:above the cap of (?P<cap>\d+) yen"
    r"|more than (?P<factor>\d+)x the usual (?P<usual>\d+) yen \(average over (?P<days>\d+) days\))"
)


@dataclass(frozen=True, slots=True)
class SpendFigures:
    """The figures of a spend alert's reason: the window's charge and the cap or usual rate it passed."""

    window_yen: int
    minutes: int
    cap_yen: int | None = None
    factor: int | None = None
    usual_yen: int | None = None
    baseline_days: int | None = None


def spend_figures(reason: str) -> SpendFigures | None:
    """The figures of a reason written by the watcher (CAP_REASON / USUAL_REASON); None for any other text."""
    match = _REASON_RE.search(reason or "")
    if match is None:
        return None
    number = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    return SpendFigures(
        number["yen"],
        number["minutes"],
        number.get("cap"),
        number.get("factor"),
        number.get("usual"),
        number.get("days"),
    )


@dataclass(frozen=True, slots=True)
class SpendAlert:
    tenant_id: int
    domain: str
    window_yen: int
    reason: str
    window_start: int
    suspended: bool
    emailed_to: tuple[str, ...]


def _epoch(value: dt.datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class SpendWatcher:
    """Call `tick()` every few seconds (the service does, every `interval` s) or once from cron."""

    def __init__(
        self,
        database: Engine | sessionmaker[Session],
        settings: SecuritySettings | None = None,
        prices: PriceList | None = None,
    ):
        self.session_factory = make_session_factory(database) if isinstance(database, Engine) else database
        self.settings = settings or SecuritySettings()
        self.prices = prices
        self._last_id: int | None = None
        self._recent: deque[tuple[float, int, int]] = deque()  # (ended, tenant_id, yen)

    def _price_list(self) -> PriceList:
        if self.prices is None:
            self.prices = default_prices()
        return self.prices

    def tick(self, now: float | None = None) -> list[SpendAlert]:
        """Read new call records, then alert every tenant over its limits in the window ending now."""
        now = time.time() if now is None else now
        window = self.settings.spend_window_seconds
        with self.session_factory() as session:
            self._read_new(session, now)
            while self._recent and self._recent[0][0] < now - 2 * window:
                self._recent.popleft()
            totals: dict[int, int] = defaultdict(int)
            for ended, tenant_id, yen in self._recent:
                if now - window < ended <= now:
                    totals[tenant_id] += yen
            alerts = []
            for tenant_id, yen in sorted(totals.items()):
                reason = self._over(session, tenant_id, yen, now)
                resumed = self._resumed_at(session, tenant_id, now - window) if reason else None
                if resumed is not None:
                    # Resumed within the window: only calls that ended since then count.
                    yen = sum(y for ended, t, y in self._recent if t == tenant_id and resumed < ended <= now)
                    reason = self._over(session, tenant_id, yen, now) if yen else ""
                if reason:
                    alert = self._alert(session, tenant_id, yen, reason, now)
                    if alert is not None:
                        alerts.append(alert)
        return alerts

    # -- reading the call records ------------------------------------------------------------------------

    def _read_new(self, session: Session, now: float) -> None:
        cdr = models.CallRecord
        if self._last_id is None:
            newest = session.scalar(select(func.max(cdr.id))) or 0
            self._last_id = max(0, newest - BACKFILL_ROWS)
        columns = (
            cdr.id,
            cdr.tenant_id,
            cdr.call_class,
            cdr.remote,
            cdr.billsec,
            cdr.started_at,
            cdr.ended_at,
            cdr.gateway,
            cdr.charge_yen,
        )
        while True:
            rows = session.execute(
                select(*columns).where(cdr.id > self._last_id).order_by(cdr.id).limit(FETCH_BATCH)
            ).all()
            if not rows:
                return
            fresh = []
            for rid, tenant_id, call_class, remote, billsec, started, ended, gateway, charge in rows:
                self._last_id = rid
                if tenant_id is None or started is None:
                    continue
                yen = charge
                if yen is None:
                    yen = rate_call(self._price_list(), call_class, remote, billsec, started, gateway)
                when = _epoch(ended) or _epoch(started)
                if yen > 0 and when is not None and when > now - 2 * self.settings.spend_window_seconds:
                    fresh.append((when, tenant_id, yen))
            # Records arrive roughly in hang-up order; the deque is kept sorted for the trimming above.
            self._recent = deque(sorted([*self._recent, *fresh]))
            if len(rows) < FETCH_BATCH:
                return

    # -- deciding ------------------------------------------------------------------------------------------

    def _over(self, session: Session, tenant_id: int, yen: int, now: float) -> str:
        s = self.settings
        limits = session.get(models.TenantCallLimits, tenant_id)
        cap = limits.spend_cap_yen if limits is not None else None
        minutes = s.spend_window_seconds // 60
        if cap is not None and yen > cap:
            return CAP_REASON.format(yen=yen, minutes=minutes, cap=cap)
        if yen < s.spend_floor_yen:
            return ""
        usual = self._usual(session, tenant_id, now)
        if yen > s.spend_factor * usual:
            return USUAL_REASON.format(
                yen=yen, minutes=minutes, factor=s.spend_factor, usual=usual, days=s.spend_baseline_days
            )
        return ""

    def _resumed_at(self, session: Session, tenant_id: int, since: float) -> float | None:
        """When the tenant's external calls were last resumed, if after `since` (epoch s)."""
        e = models.SecurityEvent
        at = session.scalar(
            select(func.max(e.at)).where(
                e.tenant_id == tenant_id,
                e.kind == "external_resumed",
                e.at > dt.datetime.fromtimestamp(since, dt.UTC),
            )
        )
        return _epoch(at)

    def _usual(self, session: Session, tenant_id: int, now: float) -> float:
        s = self.settings
        cdr = models.CallRecord
        since = dt.datetime.fromtimestamp(now - s.spend_baseline_days * 86400, dt.UTC)
        until = dt.datetime.fromtimestamp(now - s.spend_window_seconds, dt.UTC)
        total = session.scalar(
            select(func.coalesce(func.sum(cdr.charge_yen), 0)).where(
                cdr.tenant_id == tenant_id, cdr.started_at >= since, cdr.started_at < until
            )
        )
        return float(total or 0) * s.spend_window_seconds / (s.spend_baseline_days * 86400)

    # -- acting ----------------------------------------------------------------------------------------------

    def _alert(
        self, session: Session, tenant_id: int, yen: int, reason: str, now: float
    ) -> SpendAlert | None:
        window = self.settings.spend_window_seconds
        bucket = int(now // window) * window
        tenant = session.get(models.Tenant, tenant_id)
        if tenant is None:
            return None
        event = models.SecurityEvent(
            tenant_id=tenant_id, kind="spend_alert", subject=tenant.domain, detail=reason, window_start=bucket
        )
        session.add(event)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # this window already alerted (an earlier tick or another instance)
            return None
        log.warning("spend alert for %s: %s", tenant.domain, reason)
        limits = session.get(models.TenantCallLimits, tenant_id)
        suspended = False
        if limits is not None and limits.suspend_on_alert:
            suspended = set_external_suspended(session, tenant_id, True, "kumo spend watcher", reason)
        recipients = self._recipients(session, tenant_id)
        sent = self._mail(tenant, reason, suspended, recipients)
        if sent:
            event.emailed = True
            session.commit()
        return SpendAlert(tenant_id, tenant.domain, yen, reason, bucket, suspended, sent)

    def _recipients(self, session: Session, tenant_id: int) -> list[str]:
        found: list[str] = []
        account = session.get(models.BillingAccount, tenant_id)
        if account is not None and account.email:
            found.append(account.email)
        profile_model = getattr(models, "TenantProfile", None)
        profile = session.get(profile_model, tenant_id) if profile_model is not None else None
        if profile is not None and profile.email and profile.email not in found:
            found.append(profile.email)
        if self.settings.operator_email and self.settings.operator_email not in found:
            found.append(self.settings.operator_email)
        return found

    def _mail(
        self, tenant: models.Tenant, reason: str, suspended: bool, recipients: list[str]
    ) -> tuple[str, ...]:
        smtp = self.settings.smtp
        if not recipients or not smtp.enabled:
            if recipients:
                log.warning("spend alert for %s not mailed: no SMTP server configured", tenant.domain)
            return ()
        message = EmailMessage()
        message["Subject"] = f"[kumo] 通話料金の急増 / Spend alert: {tenant.domain}"
        message["From"] = smtp.sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(localtime=False)
        state = (
            "外線発信を停止しました。管理画面または運営者が再開できます。\n"
            "External calls are now SUSPENDED until the operator or the tenant re-enables them.\n"
            if suspended
            else "外線発信は停止していません。/ External calls were not suspended.\n"
        )
        message.set_content(
            f"{tenant.name} ({tenant.domain}) の発信料金が通常より大幅に増えています。\n"
            f"Outbound call charges of {tenant.name} ({tenant.domain}) rose sharply:\n\n  {reason}\n\n{state}\n"
            "身に覚えのない発信は、SIP パスワードの漏えいの可能性があります。\n"
            "Calls you do not recognise may mean a stolen SIP password: change it and check your phones.\n",
            charset="utf-8",
        )
        try:
            send(message, smtp)
        except OSError:
            log.exception("spend alert for %s: mail to %s failed", tenant.domain, ", ".join(recipients))
            return ()
        return tuple(recipients)
