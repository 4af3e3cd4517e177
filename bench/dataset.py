"""The benchmark's data set: N tenants x M users in a throw-away database, loaded with bulk inserts.

Every tenant gets users 100.., a ring group "main" (the first three users), a schedule "office" that
is open all week (closed on Japanese holidays -> voicemail of user 100), and one geographic number
(+8131234xxxx / 031234xxxx) whose destination is the schedule: DID -> schedule -> ring group.

The schema comes from the project's migrations; rows go in through SQLAlchemy Core executemany in
chunks (never `fsctl apply`, which is per tenant and far too slow for 1,000,000 users).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import create_engine, event, make_url, text

log = logging.getLogger(__name__)

CHUNK = 20_000
FIRST_EXTENSION = 100
RING_GROUP_MEMBERS = 3


@dataclass(frozen=True)
class Size:
    tenants: int
    users: int

    @property
    def label(self) -> str:
        return f"{self.tenants}x{self.users}"

    @property
    def title(self) -> str:
        return f"{self.tenants:,} tenants x {self.users:,} users ({self.tenants * self.users:,} users)"


def parse_sizes(value: str) -> list[Size]:
    """ "10x10,10000x100" -> sizes."""
    sizes = []
    for part in value.split(","):
        tenants, _, users = part.strip().lower().partition("x")
        size = Size(int(tenants), int(users))
        if not 1 <= size.tenants <= 10_000 or not 1 <= size.users <= 900:
            raise ValueError(f"size {part!r}: tenants 1..10000 (one number each), users 1..900")
        sizes.append(size)
    return sizes


def domain_of(tenant: int) -> str:
    """Tenant numbers start at 1."""
    return f"t{tenant:05d}.bench.kumo.test"


def extension_of(index: int) -> str:
    return str(FIRST_EXTENSION + index)


def did_national(tenant: int) -> str:
    return f"031234{tenant - 1:04d}"


def did_e164(tenant: int) -> str:
    return f"+8131234{tenant - 1:04d}"


def _chunks(rows: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tenant_rows(size: Size, now: dt.datetime) -> Iterator[dict]:
    for t in range(1, size.tenants + 1):
        yield {
            "id": t,
            "domain": domain_of(t),
            "name": f"Bench tenant {t}",
            "timezone": "Asia/Tokyo",
            "status": "active",
            "trial_started_on": now.date(),
            "international_calls": False,
            "max_external_channels": 8,
            "allowed_prefixes": [],
            "config_version": 1,
            "created_at": now,
        }


def user_id(size: Size, tenant: int, index: int) -> int:
    return (tenant - 1) * size.users + index + 1


def _user_rows(size: Size) -> Iterator[dict]:
    for t in range(1, size.tenants + 1):
        domain = domain_of(t)
        for i in range(size.users):
            ext = extension_of(i)
            yield {
                "id": user_id(size, t, i),
                "tenant_id": t,
                "extension": ext,
                "name": f"User {ext}",
                "a1_hash": hashlib.md5(f"{ext}:{domain}:bench-{t}-{ext}".encode()).hexdigest(),
                "direction": "both",
                "ring_seconds": 20,
                "voicemail_enabled": True,
                "voicemail_attach_audio": False,
                "recording_enabled": False,
                "forward_no_answer_seconds": 20,
            }


def _routing_rows(size: Size, now: dt.datetime) -> dict[str, list[dict]]:
    """Ring group, schedule, destinations and the number of every tenant (ids: 3 destinations per tenant)."""
    rows: dict[str, list[dict]] = {
        "ring_groups": [],
        "ring_group_members": [],
        "destinations": [],
        "schedules": [],
        "schedule_periods": [],
        "numbers": [],
    }
    members = min(RING_GROUP_MEMBERS, size.users)
    for t in range(1, size.tenants + 1):
        d_group, d_voicemail, d_schedule = 3 * t - 2, 3 * t - 1, 3 * t
        rows["ring_groups"].append(
            {"id": t, "tenant_id": t, "name": "main", "strategy": "simultaneous", "ring_seconds": 20}
        )
        rows["ring_group_members"].extend(
            {"ring_group_id": t, "user_id": user_id(size, t, i), "position": i} for i in range(members)
        )
        rows["destinations"].append({"id": d_group, "tenant_id": t, "kind": "ring_group", "ring_group_id": t})
        rows["destinations"].append(
            {"id": d_voicemail, "tenant_id": t, "kind": "voicemail", "user_id": user_id(size, t, 0)}
        )
        rows["schedules"].append(
            {
                "id": t,
                "tenant_id": t,
                "name": "office",
                "closed_on_holidays": True,
                "open_destination_id": d_group,
                "closed_destination_id": d_voicemail,
            }
        )
        rows["schedule_periods"].extend(
            {
                "id": 7 * (t - 1) + day + 1,
                "schedule_id": t,
                "weekday": day,
                "start_minute": 0,
                "end_minute": 1440,
            }
            for day in range(7)
        )
        rows["destinations"].append({"id": d_schedule, "tenant_id": t, "kind": "schedule", "schedule_id": t})
        rows["numbers"].append(
            {
                "id": t,
                "e164": did_e164(t),
                "national": did_national(t),
                "kind": "geographic",
                "tenant_id": t,
                "destination_id": d_schedule,
                "ivr_option": False,
                "assigned_at": now,
            }
        )
    return rows


def _fill_missing(rows: list[dict], table) -> list[dict]:
    """Give every row the same keys (executemany needs one shape): NULL for optional columns left out."""
    optional = [
        c.name for c in table.columns if c.nullable and c.default is None and c.server_default is None
    ]
    for row in rows:
        for name in optional:
            row.setdefault(name, None)
    return rows


def load(url: str, size: Size) -> float:
    """Create the schema at `url` (an empty database) and load the data set; returns the seconds taken."""
    from fsctl import migrate
    from fsctl.models import Base

    started = time.perf_counter()
    migrate.upgrade(url)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # Throw-away data: no fsync while loading. Readers later use WAL like the service does.
        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

    tables = Base.metadata.tables
    now = dt.datetime.now(dt.UTC)
    routing = _routing_rows(size, now)
    with engine.begin() as conn:
        for chunk in _chunks(_tenant_rows(size, now)):
            conn.execute(tables["tenants"].insert(), chunk)
        for chunk in _chunks(_user_rows(size)):
            conn.execute(tables["users"].insert(), chunk)
        # Destinations point at groups/users/schedules and schedules at destinations (use_alter FKs):
        # insert in an order where every referenced row exists already.
        destinations = routing["destinations"]
        batches = [
            ("ring_groups", routing["ring_groups"]),
            ("ring_group_members", routing["ring_group_members"]),
            ("destinations", [d for d in destinations if d["kind"] != "schedule"]),
            ("schedules", routing["schedules"]),
            ("schedule_periods", routing["schedule_periods"]),
            ("destinations", [d for d in destinations if d["kind"] == "schedule"]),
            ("numbers", routing["numbers"]),
        ]
        for name, rows in batches:
            for chunk in _chunks(iter(rows)):
                conn.execute(tables[name].insert(), _fill_missing(chunk, tables[name]))
        if engine.dialect.name == "postgresql":
            for name in (
                "tenants",
                "users",
                "ring_groups",
                "destinations",
                "schedules",
                "schedule_periods",
                "numbers",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
                )
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return time.perf_counter() - started


class BenchDatabase:
    """A fresh database per size: a SQLite file in `workdir`, or a throw-away database on the PostgreSQL
    server of DATABASE_URL (created and dropped here; the database named in DATABASE_URL is never touched)."""

    def __init__(self, workdir, base_url: str | None):
        self.workdir = workdir
        self.base_url = base_url if base_url and base_url.startswith("postgresql") else None
        self.created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.base_url else "sqlite"

    def new(self, size: Size) -> str:
        if self.base_url is None:
            return f"sqlite:///{self.workdir / f'bench-{size.label}.sqlite3'}"
        name = f"kumo_bench_{size.label}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - explain and stop
            raise SystemExit(
                f"cannot create a throw-away database on the server of DATABASE_URL ({exc.__class__.__name__}:"
                f" {str(exc).strip()[:200]}); it needs CREATEDB, or unset DATABASE_URL to bench on SQLite"
            ) from exc
        finally:
            admin.dispose()
        self.created.append(name)
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                try:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                except Exception:  # noqa: BLE001 - best effort clean-up
                    log.warning("could not drop bench database %s", name, exc_info=True)
        admin.dispose()
        self.created.clear()
