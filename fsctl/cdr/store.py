"""Storing legs: the tenant resolver over the database, idempotent insert, rejects kept aside."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models
from fsctl.billing.prices import PriceError, PriceList, default_prices
from fsctl.billing.rating import rate_call
from fsctl.cdr.classify import Classification, TenantRef, classify_leg
from fsctl.cdr.parse import Leg
from fsctl.numbering import NumberingPlan, default_plan
from fsctl.routing.screening import SCREENED_OUTCOMES, SCREENED_VAR
from fsctl.snapshots import Snapshots, session_rows
from fsctl.wiring import cdr_followers
from fsctl.wiring import snapshots as wired_snapshots

log = logging.getLogger(__name__)

# A feature told of every leg of a known tenant (leg, tenant id), before the leg is stored: the fax
# receiver's results, for one (fsctl.wiring.cdr_followers).
CdrFollower = Callable[[Leg, int], None]


class NotOurLeg(Exception):
    """A leg no tenant of this platform owns: the switch never made it for us, so it is never billed."""


class DbResolver:
    """Tenant lookups for classification: the snapshot the dialplan lookups read (`snapshots`, the
    service's shared loader and cache), with the users' row ids, kept per (tenant id, config_version)."""

    def __init__(self, session_factory: sessionmaker[Session], snapshots: Snapshots | None = None):
        self.session_factory = session_factory
        self.snapshots = snapshots or wired_snapshots()
        self._cache: dict[tuple[int, int], TenantRef] = {}

    def _load(self, session: Session, row: tuple | None) -> TenantRef | None:
        if row is None:
            return None
        key = (int(row[0]), int(row[1]))
        ref = self._cache.get(key)
        if ref is None:
            snap = self.snapshots.snapshot(session_rows(session), key)
            if snap is None:
                return None
            users = session.execute(
                select(models.User.extension, models.User.id).where(models.User.tenant_id == key[0])
            )
            ref = TenantRef(snap, {ext: uid for ext, uid in users})
            if len(self._cache) > 5_000:
                self._cache.clear()
            self._cache[key] = ref
        return ref

    def _find(self, where) -> TenantRef | None:
        with self.session_factory() as session:
            row = session.execute(select(models.Tenant.id, models.Tenant.config_version).where(where)).first()
            return self._load(session, tuple(row) if row else None)

    def by_id(self, tenant_id: int) -> TenantRef | None:
        return self._find(models.Tenant.id == tenant_id)

    def by_domain(self, domain: str) -> TenantRef | None:
        return self._find(models.Tenant.domain == domain)

    def by_number(self, national: str) -> TenantRef | None:
        with self.session_factory() as session:
            row = session.execute(
                select(models.Tenant.id, models.Tenant.config_version)
                .join(models.Number, models.Number.tenant_id == models.Tenant.id)
                .where(models.Number.national == national)
            ).first()
            return self._load(session, tuple(row) if row else None)


def _insert_ignoring_duplicates(engine: Engine, table):
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["uuid"]).returning(table.c.id)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["uuid"]).returning(table.c.id)
    return insert(table).returning(table.c.id)


def screened_outcome(leg: Leg) -> str | None:
    """What caller screening did to the call (the dialplan sets it: fsctl.routing.screening), or None."""
    value = leg.variables.get(SCREENED_VAR)
    return value if value in SCREENED_OUTCOMES else None


def row_of(leg: Leg, c: Classification, source: str) -> dict:
    """The cdrs row for a classified leg."""
    return {
        "uuid": leg.uuid,
        "leg": "b" if leg.is_b_leg else "a",
        "tenant_id": c.tenant_id,
        "user_id": c.user_id,
        "extension": c.extension,
        "number": c.number,
        "call_class": c.call_class,
        "direction": c.direction,
        "caller": c.caller[:64],
        "destination": c.destination[:64],
        "remote": c.remote[:64],
        "gateway": c.gateway[:64] if c.gateway else None,
        "started_at": leg.started_at,
        "answered_at": leg.answered_at,
        "ended_at": leg.ended_at,
        "duration": leg.duration,
        "billsec": leg.billsec,
        "hangup_cause": leg.hangup_cause,
        "screened": screened_outcome(leg),
        "source": source,
        "received_at": dt.datetime.now(dt.UTC),
    }


class CdrStore:
    """Classify and store legs; a leg already stored (same uuid) is left as it is."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        plan: NumberingPlan | None = None,
        prices: PriceList | None = None,
        rate_on_intake: bool = True,
        snapshots: Snapshots | None = None,
        followers: Sequence[CdrFollower] | None = None,
    ):
        self.engine = engine
        self.followers = tuple(cdr_followers(session_factory) if followers is None else followers)
        self.resolver = DbResolver(session_factory, snapshots)
        self.plan = plan or default_plan()
        self.prices = prices
        if rate_on_intake and prices is None:
            try:
                self.prices = default_prices()
            except (PriceError, OSError):
                # Never lose a call over a broken price file: store it unrated; `fsctl cdr rate` rates it.
                log.exception("price file unusable: CDRs are stored unrated until it is fixed")
        self.rate_on_intake = rate_on_intake
        self._insert = _insert_ignoring_duplicates(engine, models.CallRecord.__table__)

    def store(self, leg: Leg, source: str) -> bool:
        """True when the leg was new, False when it was already stored."""
        classification = classify_leg(leg, self.resolver, self.plan)
        if classification.tenant_id is None:
            raise NotOurLeg(
                f"not a leg of any tenant (context {leg.first.context[:60]!r}, dialled {leg.first.destination[:40]!r})"
            )
        # Before the leg is stored: a follower that fails fails the post, and the switch posts again
        # (each follower is idempotent by the leg's uuid).
        for follower in self.followers:
            follower(leg, classification.tenant_id)
        row = row_of(leg, classification, source)
        if self.rate_on_intake and self.prices is not None:
            # Rated now so the history and month-to-date show it at once; the batch rates the rest.
            row["charge_yen"] = rate_call(
                self.prices,
                row["call_class"],
                row["remote"],
                row["billsec"],
                row["started_at"],
                row["gateway"],
            )
        with self.engine.begin() as conn:
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns the new id.
            created = conn.execute(self._insert, row).first() is not None
        if not created:
            log.info("CDR %s already stored; the repeat is ignored", leg.uuid)
        return created

    def reject(self, source: str, uuid: str | None, reason: str, content_type: str, body: bytes) -> None:
        """Keep a post that could not be stored, with the reason, for an operator to look at."""
        log.warning("CDR post kept aside (uuid %s): %s", uuid, reason)
        with self.engine.begin() as conn:
            conn.execute(
                insert(models.CdrReject.__table__),
                [
                    {
                        "source": source,
                        "uuid": (uuid or "")[:80] or None,
                        "reason": reason[:2000],
                        "content_type": content_type[:100],
                        "body": body.decode("utf-8", "replace"),
                        "received_at": dt.datetime.now(dt.UTC),
                    }
                ],
            )
