"""`python -m bench.billing` (make bench-billing): rate a month of CDRs and close 1,000 tenants.

Generates on a throw-away database (SQLite file, or a throw-away PostgreSQL database on the server of
DATABASE_URL): 1,000 active tenants with users/numbers/options as subscription periods and
1,000,000 call legs in November 2026 (mixed classes, 0-600 answered seconds), loaded with Core
executemany (not timed). Then times, separately:
  1. rating: stored rows -> stored charges (one UPDATE; target >= 100,000 CDRs/s);
  2. closing: marking, statements' totals and storing them for every tenant (target <= 30 s);
  3. PDFs: rendering the invoices (reportlab, fonts-ipafont).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.dataset import BenchDatabase, Size
from fsctl import db, models
from fsctl.billing.close import close_month
from fsctl.billing.pdf import render_invoice
from fsctl.billing.prices import default_prices
from fsctl.billing.rating import rate_unrated
from fsctl.billing.settings import BillingSettings, find_font
from fsctl.billing.statement import Month

log = logging.getLogger(__name__)
CHUNK = 50_000
MONTH = Month(2026, 11)
CLASSES = (  # (class, direction, weight)
    ("internal", "internal", 30),
    ("leg", "in", 20),
    ("fixed", "out", 20),
    ("mobile", "out", 15),
    ("ip", "out", 5),
    ("international", "out", 2),
    ("inbound", "in", 8),
)
COUNTRIES = ("+1", "+44", "+86", "+886", "+20")


def load_tenants(engine, tenants: int, rng: random.Random) -> list[int]:
    start = dt.date(2026, 10, 1)
    rows = [
        {
            "domain": f"t{n:05d}.bill.kumo.test",
            "name": f"株式会社テスト{n}",
            "timezone": "Asia/Tokyo",
            "status": "active",
            "trial_started_on": start,
            "international_calls": True,
            "max_external_channels": 8,
            "allowed_prefixes": [],
            "config_version": 1,
            "created_at": dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        }
        for n in range(1, tenants + 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(models.Tenant), rows)
        ids = [row[0] for row in conn.execute(select(models.Tenant.id).order_by(models.Tenant.id))]
        subs = []
        for tenant_id in ids:
            subs.append({"tenant_id": tenant_id, "item": "service", "subject": "", "started_on": start})
            users = rng.randint(1, 40)
            subs += [
                {
                    "tenant_id": tenant_id,
                    "item": "user",
                    "subject": str(100 + u),
                    "started_on": start,
                    "ended_on": dt.date(2026, 11, rng.randint(1, 30)) if u % 9 == 8 else None,
                }
                for u in range(users)
            ]
            subs += [
                {"tenant_id": tenant_id, "item": "recording", "subject": str(100 + u), "started_on": start}
                for u in range(users // 4)
            ]
            subs += [
                {
                    "tenant_id": tenant_id,
                    "item": "number_geographic",
                    "subject": f"03{tenant_id:04d}{k:04d}",
                    "started_on": start,
                }
                for k in range(1 + users // 5)
            ]
            if tenant_id % 10 == 0:
                subs.append(
                    {
                        "tenant_id": tenant_id,
                        "item": "number_toll_free",
                        "subject": f"0120{tenant_id:06d}",
                        "started_on": start,
                    }
                )
        conn.execute(insert(models.Subscription), subs)
    return ids


def load_cdrs(engine, tenant_ids: list[int], count: int, rng: random.Random) -> None:
    kinds = [c for c in CLASSES for _ in range(c[2])]
    month_start = MONTH.utc_start()
    seconds = int((MONTH.utc_end() - month_start).total_seconds())
    received = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for first in range(0, count, CHUNK):
        rows = []
        for n in range(first, min(first + CHUNK, count)):
            call_class, direction, _ = kinds[n % len(kinds)]
            billsec = rng.randint(0, 600) if n % 7 else 0
            remote = f"{rng.choice(COUNTRIES)}2012345678" if call_class == "international" else "0312345678"
            started = month_start + dt.timedelta(seconds=rng.randrange(seconds))
            rows.append(
                {
                    "uuid": f"{n:08x}-0000-4000-8000-000000000000",
                    "leg": "b" if call_class == "leg" else "a",
                    "tenant_id": tenant_ids[n % len(tenant_ids)],
                    "call_class": call_class,
                    "direction": direction,
                    "caller": "101",
                    "destination": remote,
                    "remote": remote,
                    "started_at": started,
                    "duration": billsec + 3,
                    "billsec": billsec,
                    "hangup_cause": "NORMAL_CLEARING",
                    "source": "http",
                    "received_at": received,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(models.CallRecord), rows)


def run(url: str, tenants: int, cdrs: int, pdfs: int, workdir: Path) -> None:
    rng = random.Random(7)
    engine = db.make_engine(url, create=True)
    models.Base.metadata.create_all(engine)
    factory = db.make_session_factory(engine)
    started = time.perf_counter()
    ids = load_tenants(engine, tenants, rng)
    load_cdrs(engine, ids, cdrs, rng)
    print(
        f"loaded {tenants:,} tenants and {cdrs:,} CDRs in {time.perf_counter() - started:.1f} s (not timed)"
    )

    prices = default_prices()
    started = time.perf_counter()
    rated = rate_unrated(engine, prices)
    elapsed = time.perf_counter() - started
    print(f"rating: {rated:,} CDRs in {elapsed:.2f} s = {rated / elapsed:,.0f} CDRs/s (target >= 100,000)")

    settings = BillingSettings(registration_number="T1234567890123", out_dir=workdir / "invoices")
    started = time.perf_counter()
    statements = close_month(engine, factory, MONTH, prices, settings, today=dt.date(2026, 12, 1))
    elapsed = time.perf_counter() - started
    total = sum(s["total_yen"] for s in statements)
    print(f"closing: {len(statements):,} statements (total ¥{total:,}) in {elapsed:.2f} s (target <= 30 s)")
    with factory() as session:
        billed = session.scalar(select(func.count()).where(models.CallRecord.billed_month == str(MONTH)))
    print(f"         {billed:,} CDRs marked billed in {MONTH}")

    font = find_font(settings)
    started = time.perf_counter()
    for doc in statements[:pdfs]:
        render_invoice(doc, font)
    elapsed = time.perf_counter() - started
    if pdfs:
        print(
            f"PDFs: {min(pdfs, len(statements)):,} rendered in {elapsed:.2f} s "
            f"({elapsed / max(1, min(pdfs, len(statements))) * 1000:.1f} ms each)"
        )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument(
        "--pdfs", type=int, default=1_000, help="how many invoice PDFs to render (timed apart)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="kumo-bench-billing-") as tmp:
        database = BenchDatabase(Path(tmp), os.environ.get("DATABASE_URL"))
        try:
            url = database.new(Size(args.tenants, 1))
            print(f"database: {database.kind}")
            run(url, args.tenants, args.cdrs, args.pdfs, Path(tmp))
        finally:
            database.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
