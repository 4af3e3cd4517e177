"""`python -m bench.panel` (part of `make bench`): p95 page time of the panel's main pages, big tenant.

Builds on a throw-away database (SQLite file, or a throw-away PostgreSQL database on the server of
DATABASE_URL) one active tenant with BENCH_PANEL_USERS users (default 1,000), 100 numbers, 10 ring
groups, 5 schedules and BENCH_PANEL_CALLS call records (default 1,000,000, over 120 days), plus 50
other small tenants. Then requests each main page through the WSGI
app in process (what a page costs the server, without the network) and prints p50/p95 in ms. Saving
goes through the tenant file's apply with the whole tenant's document, so it is measured too.

Knobs: BENCH_PANEL_USERS=1000, BENCH_PANEL_REQUESTS=40 (per page; saves: a quarter of it).

`python -m bench.panel --under-load` (`make bench-panel-load`): the same pages while `make bench`'s
lookup load runs beside them: `fsctl serve` (2 workers) on another throw-away database of
BENCH_PANEL_LOAD_SIZE (10x10) tenants x users, driven by wrk with 50 connections (half directory,
half dialplan lookups, a new connection per request) for the whole measurement, so the panel shares
the two cores as it does in production. The lookups answered per second during it are printed too.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import insert, select

from bench.dataset import BenchDatabase, Size
from fsctl import db, migrate, models
from fsctl.accounts import create_operator, hash_password
from fsctl.inventory import add_numbers
from fsctl.wiring import tenant_file

OUT = Path(__file__).resolve().parent / "out" / "panel.json"
TARGET_P95_MS = 300.0
PASSWORD = "Bench-pass-2026"


def _document(domain: str, users: int) -> dict:
    extensions = [str(1000 + i) for i in range(users)]
    numbers = [f"03123{i:05d}" for i in range(100)]
    return {
        "domain": domain,
        "name": "株式会社ベンチ",
        "status": "active",
        "max_external_channels": 32,
        "users": [
            {
                "extension": ext,
                "name": f"利用者 {ext}",
                "password": f"Bench-{ext}-password",
                "voicemail": {"pin": "2468"},
                "forward": {"no_answer": {"voicemail": ext}},
            }
            for ext in extensions
        ],
        "numbers": [
            {"number": n, "destination": {"ring_group": f"group{i % 10}"}} for i, n in enumerate(numbers)
        ],
        "ring_groups": [
            {"name": f"group{g}", "members": extensions[g * 10 : g * 10 + 10], "strategy": "sequential"}
            for g in range(10)
        ],
        "schedules": [
            {
                "name": f"hours{s}",
                "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
                "open_destination": {"ring_group": f"group{s}"},
                "closed_destination": {"voicemail": extensions[s]},
            }
            for s in range(5)
        ],
        "park": {"slots": "700-719"},
    }


def build(url: str, users: int) -> None:
    migrate.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    add_numbers(factory, "0312300000-0312300099")
    with db.session_scope(factory) as session:
        tenant_file().apply(session, _document("big.kumo.example", users), actor="bench")
        for t in range(50):
            tenant_file().apply(
                session,
                {
                    "domain": f"small{t}.kumo.example",
                    "name": f"Small {t}",
                    "users": [{"extension": "101", "name": "a", "password": "Small-101-pass"}],
                },
                actor="bench",
            )
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == "big.kumo.example"))
        session.add(
            models.PanelAccount(
                email="admin@big.example",
                password_hash=hash_password(PASSWORD),
                role=models.AccountRole.ADMIN,
                tenant_id=tenant.id,
            )
        )
        create_operator(session, "ops@kumo.example", PASSWORD)
    load_call_history(engine, tenant.id, users, int(os.environ.get("BENCH_PANEL_CALLS", "1000000")))
    engine.dispose()


CALL_DAYS = 120
HISTORY_END = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)


def load_call_history(engine, tenant_id: int, users: int, count: int, chunk: int = 20_000) -> None:
    """`count` call records of the big tenant over CALL_DAYS days: every user, both ways, internal."""
    rng = random.Random(7)
    kinds = [("mobile", "out"), ("fixed", "out"), ("inbound", "in"), ("internal", "internal")]
    span = CALL_DAYS * 86_400
    for first in range(0, count, chunk):
        rows = []
        for n in range(first, min(first + chunk, count)):
            call_class, direction = kinds[n % len(kinds)]
            ext = str(1000 + n % users)
            billsec = rng.randint(0, 600) if n % 5 else 0
            started = HISTORY_END - dt.timedelta(seconds=span * (count - n) // count)
            rows.append(
                {
                    "uuid": f"{n:08x}-0000-4000-8000-00000000beef",
                    "leg": "a",
                    "tenant_id": tenant_id,
                    "extension": ext,
                    "number": "0312300005",
                    "call_class": call_class,
                    "direction": direction,
                    "caller": ext if direction != "in" else "09012345678",
                    "destination": "09012345678" if direction == "out" else ext,
                    "remote": "09012345678",
                    "started_at": started,
                    "answered_at": started if billsec else None,
                    "duration": billsec + 3,
                    "billsec": billsec,
                    "hangup_cause": "NORMAL_CLEARING",
                    "source": "http",
                    "received_at": started,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(models.CallRecord), rows)


def _read(response):
    response.get_data()
    response.close()
    return response


def _time(call, count: int) -> dict:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code >= 400:
            raise SystemExit(
                f"bench request failed: {response.status_code} {response.get_data(as_text=True)[:300]}"
            )
    samples.sort()
    return {
        "n": count,
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
    }


def measure(url: str, instance: str, requests: int) -> dict[str, dict]:
    from webpanel import create_app
    from webpanel.extensions import db as panel_db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
    gc.collect()
    gc.freeze()  # as the panel's server does once started (webpanel/__main__.py)
    admin, ops = app.test_client(), app.test_client()
    # Flask-WTF keeps the CSRF secret in the session and each form carries it signed with the app's key.
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("bench")
    for client, email in ((admin, "admin@big.example"), (ops, "ops@kumo.example")):
        with client.session_transaction() as session:
            session["csrf_token"] = "bench"
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        with client.session_transaction() as session:
            session["csrf_token"] = "bench"
    with app.app_context():
        tenant_id = panel_db.session.scalar(
            select(models.Tenant.id).where(models.Tenant.domain == "big.kumo.example")
        )
        user_id = panel_db.session.scalar(
            select(models.User.id).where(models.User.tenant_id == tenant_id, models.User.extension == "1500")
        )
        schedule_id = panel_db.session.scalar(
            select(models.Schedule.id).where(models.Schedule.tenant_id == tenant_id)
        )
        number_id = panel_db.session.scalar(
            select(models.Number.id).where(models.Number.tenant_id == tenant_id).order_by(models.Number.id)
        )
    save = {
        "csrf_token": token,
        "name": "利用者 1500",
        "direction": "both",
        "voicemail.enabled": "on",
        "voicemail.pin": "2468",
        "forward.no_answer": "voicemail:1500",
    }
    pages = {
        "overview /": lambda: admin.get("/"),
        "users /users/": lambda: admin.get("/users/"),
        "users page 10": lambda: admin.get("/users/?page=10"),
        "users search": lambda: admin.get("/users/?q=15"),
        "user edit form": lambda: admin.get(f"/users/{user_id}"),
        "numbers /numbers/": lambda: admin.get("/numbers/"),
        "ring groups": lambda: admin.get("/ring-groups/"),
        "schedules": lambda: admin.get("/schedules/"),
        "schedule form": lambda: admin.get(f"/schedules/{schedule_id}"),
        "what happens if": lambda: admin.get("/what-if/?to=0312300005&day=2026-12-07&time=10:00"),
        "audit log": lambda: admin.get("/audit"),
        "call history": lambda: admin.get("/history/"),
        "call history page 500": lambda: admin.get("/history/?page=500"),
        "call history of a user": lambda: admin.get("/history/?user=1500"),
        "call history one week": lambda: admin.get("/history/?from=2026-11-16&to=2026-11-22"),
        "call history calls in": lambda: admin.get("/history/?direction=in"),
        # A streamed body: read to the end, inside the timing.
        "call history CSV, one day": lambda: _read(
            admin.get("/history/calls.csv?from=2026-11-20&to=2026-11-20")
        ),
        "number page (call flow)": lambda: admin.get(f"/numbers/{number_id}"),
        "formal application": lambda: admin.get("/application"),
        "account (two-step)": lambda: admin.get("/account"),
        "operator dashboard": lambda: ops.get("/operator/"),
        "operator tenants": lambda: ops.get("/operator/tenants"),
        "operator inventory": lambda: ops.get("/operator/numbers"),
    }
    results = {name: _time(call, requests) for name, call in pages.items()}
    # Saves alternate between two ring times so every one of them really changes the tenant.
    flip = iter(range(10_000))
    results["save a user (tenant file apply)"] = _time(
        lambda: admin.post(f"/users/{user_id}", data=dict(save, ring_seconds=str(20 + next(flip) % 2))),
        max(4, requests // 4),
    )
    with app.app_context():
        panel_db.session.remove()
        panel_db.engines[None].dispose()
    return results


class LookupLoad:
    """`make bench`'s lookup load (fsctl serve + wrk, 50 connections) running until stopped."""

    SLICE_SECONDS = 5

    def __init__(self, workdir: Path, url: str, size: Size, connections: int = 50):
        from bench.load import dialplan_bodies, directory_bodies, write_bodies_lua, write_script
        from bench.servers import FsctlServer, ensure_tools

        self.tools = ensure_tools()
        rng = random.Random("kumo-bench-panel-load")
        self.fsctl = FsctlServer(workdir, url, 2)
        self.fsctl.wait_ready()
        self.scripts = []
        for name, bodies in (
            ("directory", directory_bodies(size, 5_000, rng)),
            ("dialplan", dialplan_bodies(size, 5_000, rng)),
        ):
            lua = workdir / f"panel-load-{name}-bodies.lua"
            write_bodies_lua(lua, bodies)
            script = workdir / f"panel-load-{name}.lua"
            write_script(script, lua, self.fsctl.port)
            self.scripts.append(script)
        self.connections = connections
        self.requests = 0
        self.seconds = 0.0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._drive, args=(s,), daemon=True) for s in self.scripts]

    def _drive(self, script: Path) -> None:
        from bench.load import run_wrk

        per = max(1, self.connections // len(self.scripts))
        while not self._stop.is_set():
            figures = run_wrk(
                self.tools["wrk"], script, self.fsctl.port, self.SLICE_SECONDS, per, 1
            ).as_dict()
            self.requests += int(figures["rps"] * self.SLICE_SECONDS)
            self.seconds += self.SLICE_SECONDS / len(self.scripts)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        time.sleep(2)  # the load is on before the first page is timed

    def stop(self) -> float:
        """Stop the load; lookups answered per second while it ran."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.SLICE_SECONDS + 70)
        self.fsctl.stop()
        return self.requests / self.seconds if self.seconds else 0.0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    under_load = "--under-load" in argv
    users = int(os.environ.get("BENCH_PANEL_USERS", "1000"))
    requests = int(os.environ.get("BENCH_PANEL_REQUESTS", "40"))
    lookups_per_second = None
    with tempfile.TemporaryDirectory(prefix="kumo-bench-panel-") as workdir:
        databases = BenchDatabase(Path(workdir), os.environ.get("DATABASE_URL"))
        try:
            url = databases.new(Size(1, users))
            started = time.perf_counter()
            build(url, users)
            print(
                f"panel bench on {databases.kind}: 1 tenant x {users:,} users built in {time.perf_counter() - started:.1f} s"
            )
            load = None
            if under_load:
                from bench.dataset import load as load_dataset
                from bench.dataset import parse_sizes

                size = parse_sizes(os.environ.get("BENCH_PANEL_LOAD_SIZE", "") or "10x10")[0]
                lookup_url = databases.new(size)
                load_dataset(lookup_url, size)
                load = LookupLoad(Path(workdir), lookup_url, size)
                load.start()
                print(f"lookup load beside it: {size.label}, fsctl serve (2 workers), wrk 50 connections")
            try:
                results = measure(url, str(Path(workdir) / "instance"), requests)
            finally:
                if load is not None:
                    lookups_per_second = load.stop()
        finally:
            databases.drop_all()
    if lookups_per_second is not None:
        print(f"lookups answered beside the panel: {lookups_per_second:.0f}/s")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8}  target p95 <= {TARGET_P95_MS:.0f} ms")
    for name, figures in results.items():
        mark = "ok" if figures["p95_ms"] <= TARGET_P95_MS else "SLOW"
        print(f"{name:32} {figures['p50_ms']:8.1f} {figures['p95_ms']:8.1f}  {mark}")
    out = OUT.with_name("panel-under-load.json") if under_load else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"database": databases.kind, "users": users, "pages": results}
    if lookups_per_second is not None:
        report["lookups_per_second_beside"] = round(lookups_per_second)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
