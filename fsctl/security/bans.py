"""Brute-force bans: failed digest authentications counted per user+IP and per IP, in the database.

Counters are rows (one per failed authentication, unique per switch event), so every kumo instance and
the panel see the same counts and nothing is lost on restart. A source is banned once it reaches the
threshold within the window; the directory then answers its `sip_auth` lookups "not found"
(`BANNED_SQL`, folded into the user query). A user+IP pair that registered successfully is *trusted*:
no per-IP ban refuses it (someone else's failures behind the same NAT do not lock it out), and its own
failures count for that pair only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fsctl import models
from fsctl.security.settings import SecuritySettings

log = logging.getLogger(__name__)

# The ban check of a `sip_auth` lookup, as a column of the directory's user query (parameters: ip, now).
# Both sub-queries are lookups on the unique (ip, domain, username) indexes. An IP-wide ban has
# domain = username = '' and does not apply to a user that is trusted from that IP.
BANNED_SQL = (
    "EXISTS (SELECT 1 FROM security_bans b WHERE b.ip = ? AND b.until > ?"
    " AND ((b.domain = t.domain AND b.username = u.extension)"
    " OR (b.domain = '' AND b.username = '' AND NOT EXISTS (SELECT 1 FROM security_trusted_sources s"
    " WHERE s.ip = b.ip AND s.domain = t.domain AND s.username = u.extension))))"
)


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed digest authentication (from sofia::register_attempt FORBIDDEN or register_failure)."""

    ip: str
    domain: str
    username: str
    at: int
    kind: str = "REGISTER"
    core_uuid: str | None = None
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class BanView:
    """A ban as the panel and `fsctl bans list` show it."""

    id: int
    ip: str
    domain: str
    username: str
    created_at: dt.datetime
    until: dt.datetime
    failures: int
    reason: str
    active: bool

    @property
    def subject(self) -> str:
        return (
            f"{self.username}@{self.domain} from {self.ip}" if self.domain else f"every user from {self.ip}"
        )


def _epoch(value: dt.datetime | float | int | None) -> int:
    if value is None:
        return int(time.time())
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return int(value)


def _when(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


# Told the subjects (ip, domain, username; domain = username = "" for a whole IP) of new bans.
BanListener = Callable[[list[tuple[str, str, str]]], None]


def record_failures(
    session: Session,
    failures: Iterable[Failure],
    settings: SecuritySettings,
    on_ban: BanListener | None = None,
) -> list[models.Ban]:
    """Store failures (each switch event once), ban every source past the threshold; commits.

    Returns the bans created or renewed. Two instances storing the same events race on the unique
    (core_uuid, event_sequence) key: the loser retries once and finds them stored.

    `on_ban` is told each new ban's subject twice: before the commit and after it. A ban is enforced
    by the directory refusing the banned source's lookups, which the switch skips for a user it has
    cached (fsctl.esl.cache_flush), so the listener evicts the user. Before the commit: whoever sees
    the ban row sees it enforced. After it: a lookup answered between the two (the ban not yet
    visible) may have cached the user again.
    """
    failures = [f for f in failures if f.ip]
    if not failures:
        return []
    for attempt in (1, 2):
        try:
            bans = _record(session, failures, settings)
            subjects = [(b.ip, b.domain, b.username) for b in bans]
            if subjects and on_ban is not None:
                on_ban(subjects)
            session.commit()
            if subjects and on_ban is not None:
                on_ban(subjects)
            return bans
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
            log.info("auth failures stored concurrently by another instance; retrying")
    return []


def _record(session: Session, failures: list[Failure], settings: SecuritySettings) -> list[models.Ban]:
    keyed = [(f.core_uuid, f.sequence) for f in failures if f.core_uuid and f.sequence is not None]
    stored: set[tuple[str, int]] = set()
    if keyed:
        stored = set(
            session.execute(
                select(models.AuthFailure.core_uuid, models.AuthFailure.event_sequence).where(
                    tuple_(models.AuthFailure.core_uuid, models.AuthFailure.event_sequence).in_(keyed)
                )
            ).all()
        )
    subjects = {(f.ip, f.domain, f.username) for f in failures}
    trusted = _trusted(session, subjects)
    banned = _banned_until(session, {ip for ip, _, _ in subjects})
    latest: dict[tuple[str, str, str], int] = {}
    for f in failures:
        if f.core_uuid and f.sequence is not None:
            if (f.core_uuid, f.sequence) in stored:
                continue
            stored.add((f.core_uuid, f.sequence))
        subject = (f.ip, f.domain, f.username)
        # A source already refused is not counted again: a scanner hammering on while banned would
        # otherwise add a row per attempt (the directory keeps refusing it without them).
        if banned.get(subject, 0) > f.at or (subject not in trusted and banned.get((f.ip, "", ""), 0) > f.at):
            continue
        session.add(
            models.AuthFailure(
                core_uuid=f.core_uuid,
                event_sequence=f.sequence,
                at=f.at,
                ip=f.ip,
                domain=f.domain,
                username=f.username,
                trusted=subject in trusted,
                kind=f.kind,
            )
        )
        latest[subject] = max(f.at, latest.get(subject, 0))
    session.flush()
    bans = []
    window = settings.auth_fail_window
    for (ip, domain, username), at in latest.items():
        pair = _count(session, at - window, at, ip, domain, username)
        if pair >= settings.auth_fail_threshold and username:
            ban = _ban(session, ip, domain, username, at, pair, settings)
            if ban is not None:
                bans.append(ban)
        whole = _count(session, at - window, at, ip)
        if whole >= settings.auth_fail_threshold:
            ban = _ban(session, ip, "", "", at, whole, settings)
            if ban is not None:
                bans.append(ban)
    return bans


def _banned_until(session: Session, ips: set[str]) -> dict[tuple[str, str, str], int]:
    rows = session.execute(
        select(models.Ban.ip, models.Ban.domain, models.Ban.username, models.Ban.until).where(
            models.Ban.ip.in_(ips)
        )
    ).all()
    return {(ip, domain, username): until for ip, domain, username, until in rows}


def _trusted(session: Session, subjects: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    ips = {ip for ip, _, _ in subjects}
    rows = session.execute(
        select(models.TrustedSource.ip, models.TrustedSource.domain, models.TrustedSource.username).where(
            models.TrustedSource.ip.in_(ips)
        )
    ).all()
    return {tuple(r) for r in rows} & subjects


def _count(
    session: Session, since: int, until: int, ip: str, domain: str | None = None, username: str | None = None
) -> int:
    f = models.AuthFailure
    query = select(func.count()).select_from(f).where(f.ip == ip, f.at > since, f.at <= until)
    if domain is None:
        query = query.where(f.trusted.is_(False))
    else:
        query = query.where(f.domain == domain, f.username == username)
    return session.scalar(query) or 0


def _ban(
    session: Session, ip: str, domain: str, username: str, at: int, failures: int, settings: SecuritySettings
) -> models.Ban | None:
    ban = session.scalar(
        select(models.Ban).where(
            models.Ban.ip == ip, models.Ban.domain == domain, models.Ban.username == username
        )
    )
    if ban is not None and ban.until > at:
        return None  # already banned: the ban is not extended by the failures it causes
    what = f"{username}@{domain} from {ip}" if domain else f"every user from {ip}"
    reason = f"{failures} failed authentications in {settings.auth_fail_window} s"
    if ban is None:
        ban = models.Ban(ip=ip, domain=domain, username=username)
        session.add(ban)
    ban.created_at, ban.until, ban.failures, ban.reason = at, at + settings.ban_seconds, failures, reason
    session.add(
        models.SecurityEvent(kind="ban", subject=what, detail=reason, tenant_id=_tenant_id(session, domain))
    )
    log.warning("banned %s for %d s: %s", what, settings.ban_seconds, reason)
    return ban


def add_ip_ban(
    session: Session, ip: str, seconds: int, actor: str, reason: str = "", now: int | None = None
) -> models.Ban:
    """An operator's ban of every user from `ip` for `seconds` (a new ban, or one renewed); commits.

    Refused where every IP-wide ban is: by kumo's directory (BANNED_SQL; a user trusted from that
    address excepted) and, in a cluster, by Kamailio before any node sees the request (the view
    kamailio_bans). Raises ValueError naming what is wrong with `ip` or `seconds`.
    """
    try:
        ip = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise ValueError(f"ip: {ip!r} is not an IPv4 or IPv6 address") from None
    if seconds < 1:
        raise ValueError(f"seconds: a ban lasts at least 1 s (got {seconds})")
    now = _epoch(now)
    ban = session.scalar(
        select(models.Ban).where(models.Ban.ip == ip, models.Ban.domain == "", models.Ban.username == "")
    )
    if ban is None:
        ban = models.Ban(ip=ip, domain="", username="", failures=0)
        session.add(ban)
    ban.created_at, ban.until = now, now + seconds
    ban.reason = f"added by {actor}" + (f": {reason}" if reason else "")
    what = f"every user from {ip}"
    session.add(models.SecurityEvent(kind="ban", subject=what, detail=ban.reason, tenant_id=None))
    log.warning("banned %s for %d s (%s)", what, seconds, ban.reason)
    session.commit()
    return ban


def _tenant_id(session: Session, domain: str) -> int | None:
    if not domain:
        return None
    return session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))


def mark_trusted(session: Session, ip: str, domain: str, username: str, now: int | None = None) -> None:
    """A successful registration: trust this user+IP pair and forget the pair's failures; commits."""
    mark_trusted_many(session, [(ip, domain, username)], now)


def mark_trusted_many(
    session: Session, pairs: Iterable[tuple[str, str, str]], now: int | None = None
) -> None:
    """Successful registrations, (ip, domain, username) each: trust the pairs and forget their
    failures, in one transaction (the event handler writes those of a second at once); commits."""
    rows = [
        {"ip": ip, "domain": domain, "username": username} for ip, domain, username in dict.fromkeys(pairs)
    ]
    if not rows:
        return
    now = _epoch(now)
    t = models.TrustedSource
    f = models.AuthFailure
    failures = f.__table__.c
    forget = delete(f.__table__).where(
        failures.ip == bindparam("b_ip"),
        failures.domain == bindparam("b_domain"),
        failures.username == bindparam("b_username"),
    )
    keys = [{"b_ip": r["ip"], "b_domain": r["domain"], "b_username": r["username"]} for r in rows]
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # One upsert on the pair's unique index, as Core: the ORM's select-then-insert-or-update
        # cost ~3 ms on PostgreSQL, paid on every phone's first REGISTER (bench.esl registrations).
        insert = postgresql_insert(t.__table__) if dialect == "postgresql" else sqlite_insert(t.__table__)
        upsert = insert.on_conflict_do_update(
            index_elements=["ip", "domain", "username"], set_={"last_seen": insert.excluded.last_seen}
        )
        session.execute(upsert, [dict(r, first_seen=now, last_seen=now) for r in rows])
        session.execute(forget, keys)
        session.commit()
        return
    for r in rows:
        row = session.scalar(
            select(t).where(t.ip == r["ip"], t.domain == r["domain"], t.username == r["username"])
        )
        if row is None:
            session.add(t(first_seen=now, last_seen=now, **r))
        else:
            row.last_seen = now
    session.execute(forget, keys)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another instance inserted the same pair first: it is trusted either way


def list_bans(
    session: Session,
    now: dt.datetime | int | None = None,
    include_expired: bool = False,
    domain: str | None = None,
) -> list[BanView]:
    """Bans, newest first (active only unless asked); `domain` = one tenant's pair bans only."""
    now_s = _epoch(now)
    query = select(models.Ban).order_by(models.Ban.created_at.desc(), models.Ban.id.desc())
    if not include_expired:
        query = query.where(models.Ban.until > now_s)
    if domain is not None:
        query = query.where(models.Ban.domain == domain.lower())
    return [ban_view(b, now_s) for b in session.scalars(query)]


def ban_view(b: models.Ban, now: dt.datetime | int | None = None) -> BanView:
    """One ban row as the panel and `fsctl bans list` show it."""
    now_s = _epoch(now)
    return BanView(
        b.id,
        b.ip,
        b.domain,
        b.username,
        _when(b.created_at),
        _when(b.until),
        b.failures,
        b.reason,
        b.until > now_s,
    )


def lift_bans(
    session: Session,
    actor: str,
    ban_id: int | None = None,
    ip: str | None = None,
    now: dt.datetime | int | None = None,
) -> int:
    """End bans now (one by id, or every ban of an IP) and forget their failures; commits; returns how many."""
    if ban_id is None and ip is None:
        raise ValueError("name a ban id or an IP")
    query = select(models.Ban)
    query = query.where(models.Ban.id == ban_id) if ban_id is not None else query.where(models.Ban.ip == ip)
    lifted = 0
    for ban in session.scalars(query).all():
        f = models.AuthFailure
        forget = delete(f).where(f.ip == ban.ip)
        if ban.domain:
            forget = forget.where(f.domain == ban.domain, f.username == ban.username)
        session.execute(forget)
        what = f"{ban.username}@{ban.domain} from {ban.ip}" if ban.domain else f"every user from {ban.ip}"
        session.add(
            models.SecurityEvent(
                kind="ban_lifted",
                subject=what,
                detail=f"lifted by {actor}",
                tenant_id=_tenant_id(session, ban.domain),
            )
        )
        log.warning("ban of %s lifted by %s", what, actor)
        session.delete(ban)
        lifted += 1
    session.commit()
    return lifted


def purge(
    session: Session, settings: SecuritySettings, now: dt.datetime | int | None = None
) -> tuple[int, int]:
    """Delete failure rows older than the window and bans expired longer than keep_seconds; commits."""
    now_s = _epoch(now)
    old_failures = session.execute(
        delete(models.AuthFailure).where(
            models.AuthFailure.at <= now_s - max(settings.auth_fail_window, settings.keep_seconds)
        )
    ).rowcount
    old_bans = session.execute(
        delete(models.Ban).where(models.Ban.until <= now_s - settings.keep_seconds)
    ).rowcount
    session.commit()
    return old_failures or 0, old_bans or 0


def is_refused(
    session: Session, ip: str, domain: str, username: str, now: dt.datetime | int | None = None
) -> bool:
    """The directory's rule as a Python check (panel, tests): would this source be refused now?"""
    now_s = _epoch(now)
    b, s = models.Ban, models.TrustedSource
    trusted = session.scalar(
        select(func.count()).select_from(s).where(s.ip == ip, s.domain == domain, s.username == username)
    )
    query = select(func.count()).select_from(b).where(b.ip == ip, b.until > now_s)
    pair = (b.domain == domain) & (b.username == username)
    query = query.where(pair if trusted else or_(pair, (b.domain == "") & (b.username == "")))
    return bool(session.scalar(query))


def ip_ban_until(
    session: Session, ip: str, domain: str, username: str, now: dt.datetime | int | None = None
) -> dt.datetime | None:
    """Until when an IP-wide ban refuses this user from this address (a trusted pair: never); None = no such ban."""
    now_s = _epoch(now)
    b, s = models.Ban, models.TrustedSource
    trusted = select(s.ip).where(s.ip == ip, s.domain == domain, s.username == username).exists()
    until = session.scalar(
        select(func.max(b.until)).where(
            b.ip == ip, b.domain == "", b.username == "", b.until > now_s, ~trusted
        )
    )
    return _when(until) if until is not None else None


def nft_script(bans: Iterable[BanView], table: str = "inet kumo", set_name: str = "sip_banned") -> str:
    """An `nft -f` script that replaces the set's elements with the banned IPs (IP-wide bans only).

    Pair bans stay in the directory: blocking the whole address would hit the pair's trusted neighbours.
    Each element carries its remaining time as an nftables timeout, so the kernel expires it on schedule.
    """
    v4: dict[str, int] = {}
    v6: dict[str, int] = {}
    now = time.time()
    for ban in bans:
        if ban.domain or not ban.active:
            continue
        try:
            address = ipaddress.ip_address(ban.ip)
        except ValueError:
            continue
        seconds = max(1, int(ban.until.timestamp() - now))
        target = v4 if address.version == 4 else v6
        target[str(address)] = max(seconds, target.get(str(address), 0))
    lines = [
        f"# kumo brute-force bans, generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"add table {table}",
        f"add set {table} {set_name} {{ type ipv4_addr; flags timeout; }}",
        f"add set {table} {set_name}6 {{ type ipv6_addr; flags timeout; }}",
        f"flush set {table} {set_name}",
        f"flush set {table} {set_name}6",
    ]
    for name, elements in ((set_name, v4), (f"{set_name}6", v6)):
        if elements:
            items = ", ".join(f"{ip} timeout {s}s" for ip, s in sorted(elements.items()))
            lines.append(f"add element {table} {name} {{ {items} }}")
    lines.append(
        f"# use it: add rule {table} input ip saddr @{set_name} udp dport 5060 drop  (and ip6 saddr @{set_name}6)"
    )
    return "\n".join(lines) + "\n"
